import type { Matcher, TrailRecord } from "../interfaces.js";

export interface CompiledRoute {
  readonly name: string;
  readonly matcher: Matcher;
  /** Sink names, in the order of the file. */
  readonly to: readonly string[];
}

/**
 * Records of one object, grouped by the sink they go to. A record matched by several routes
 * that feed the same sink is delivered to that sink once.
 */
export class RoutedBatch {
  readonly bySink = new Map<string, TrailRecord[]>();
  readonly perRoute = new Map<string, number>();

  get isEmpty(): boolean {
    return this.bySink.size === 0;
  }
}

export class Router {
  constructor(private readonly routes: readonly CompiledRoute[]) {}

  /** Adds the record to `batch` under every sink of every route it matches. */
  route(record: TrailRecord, batch: RoutedBatch): void {
    let sinksOfRecord: Set<string> | undefined;
    for (const route of this.routes) {
      if (!route.matcher.matches(record)) continue;
      batch.perRoute.set(route.name, (batch.perRoute.get(route.name) ?? 0) + 1);
      for (const sink of route.to) {
        sinksOfRecord ??= new Set();
        if (sinksOfRecord.has(sink)) continue;
        sinksOfRecord.add(sink);
        const records = batch.bySink.get(sink);
        if (records) records.push(record);
        else batch.bySink.set(sink, [record]);
      }
    }
  }
}
