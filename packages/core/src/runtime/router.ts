import { type CompiledPatternSet, compilePatterns, PatternError } from "@trailrouter/event-pattern";
import { TrailrouterError } from "../errors.js";
import type { Matcher, TrailRecord } from "../interfaces.js";

export interface CompiledRoute {
  readonly name: string;
  readonly matcher: Matcher;
  /** Sink names, in the order of the file. */
  readonly to: readonly string[];
}

/** A route whose event pattern is compiled with the other routes' patterns into one matcher. */
export interface PatternRoute {
  readonly name: string;
  readonly pattern: unknown;
  readonly to: readonly string[];
}

export type RouteDefinition = CompiledRoute | PatternRoute;

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

  /** Records held, counted once per sink they go to. */
  get size(): number {
    let size = 0;
    for (const records of this.bySink.values()) size += records.length;
    return size;
  }
}

const NO_MATCH: readonly number[] = [];

export class Router {
  private readonly routes: readonly RouteDefinition[];
  /** The pattern routes, matched in one pass; `patternRoutes[i]` is the position of its pattern i. */
  private readonly patterns: CompiledPatternSet | undefined;
  private readonly patternRoutes: readonly number[];
  /** Positions of the routes that have their own Matcher, in file order. */
  private readonly matcherRoutes: readonly number[];
  /**
   * False only for a record's JSON text that no route can match (the decoder may then skip
   * parsing it); undefined when some route can match records no text test rules out: a route
   * with its own Matcher, or a pattern that pins no literal value.
   */
  readonly mayMatch: ((recordJson: string) => boolean) | undefined;
  /** Sinks the record being routed has been added to; `route` runs synchronously, so one set serves all records. */
  private readonly sinksOfRecord = new Set<string>();

  /**
   * Throws an `InvalidEventPattern` error for an invalid pattern, with the path in the pattern
   * and the route's name as `path` and `pattern` in its context.
   */
  constructor(routes: readonly RouteDefinition[]) {
    this.routes = routes;
    const patternRoutes: number[] = [];
    const matcherRoutes: number[] = [];
    for (const [position, route] of routes.entries()) {
      (isPatternRoute(route) ? patternRoutes : matcherRoutes).push(position);
    }
    this.patternRoutes = patternRoutes;
    this.matcherRoutes = matcherRoutes;
    this.patterns =
      patternRoutes.length === 0
        ? undefined
        : compileRoutePatterns(patternRoutes.map((position) => routes[position] as PatternRoute));
    const prefilter = matcherRoutes.length === 0 ? this.patterns?.prefilter : undefined;
    this.mayMatch = prefilter === undefined ? undefined : (recordJson) => prefilter.mayMatch(recordJson);
  }

  /** Adds the record to `batch` under every sink of every route it matches, routes in file order. */
  route(record: TrailRecord, batch: RoutedBatch): void {
    const matched = this.patterns ? this.patterns.matchIndices(record) : NO_MATCH;
    this.sinksOfRecord.clear();
    let next = 0;
    for (const position of this.matcherRoutes) {
      while (next < matched.length && this.patternRoutes[matched[next]!]! < position) {
        this.add(this.patternRoutes[matched[next++]!]!, record, batch);
      }
      if ((this.routes[position] as CompiledRoute).matcher.matches(record)) {
        this.add(position, record, batch);
      }
    }
    while (next < matched.length) this.add(this.patternRoutes[matched[next++]!]!, record, batch);
  }

  /** The names of the routes that match `record` and feed `sink`, in file order (for dead letters). */
  routesFeeding(record: TrailRecord, sink: string): string[] {
    const batch = new RoutedBatch();
    const names: string[] = [];
    this.route(record, batch);
    for (const route of this.routes) {
      if (batch.perRoute.has(route.name) && route.to.includes(sink)) names.push(route.name);
    }
    return names;
  }

  private add(position: number, record: TrailRecord, batch: RoutedBatch): void {
    const route = this.routes[position]!;
    const sinksOfRecord = this.sinksOfRecord;
    batch.perRoute.set(route.name, (batch.perRoute.get(route.name) ?? 0) + 1);
    for (const sink of route.to) {
      if (sinksOfRecord.has(sink)) continue;
      sinksOfRecord.add(sink);
      const records = batch.bySink.get(sink);
      if (records) records.push(record);
      else batch.bySink.set(sink, [record]);
    }
  }
}

function isPatternRoute(route: RouteDefinition): route is PatternRoute {
  return !("matcher" in route);
}

function compileRoutePatterns(routes: readonly PatternRoute[]): CompiledPatternSet {
  try {
    return compilePatterns(routes.map((route) => [route.name, route.pattern] as const));
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    throw new TrailrouterError(
      "pattern",
      error.code,
      error.message,
      { path: error.path, pattern: error.pattern },
      { cause: error },
    );
  }
}
