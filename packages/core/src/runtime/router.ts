import type { PluginConfig } from "../config/types.js";
import { asTrailrouterError, PluginError } from "../errors.js";
import type { Matcher, MatcherSet, TrailRecord } from "../interfaces.js";
import type { AnyPlugin } from "../plugin.js";

export interface CompiledRoute {
  readonly name: string;
  readonly matcher: Matcher;
  /** Sink names, in the order of the file. */
  readonly to: readonly string[];
}

/**
 * A route whose matcher plugin has `compileSet`: compiled with the other routes of the same
 * plugin into one MatcherSet.
 */
export interface SetRoute {
  readonly name: string;
  /** The matcher plugin of `match.type`; its routes are compiled together. */
  readonly plugin: AnyPlugin;
  /** The route's `match` block, as given to `compileSet`. */
  readonly match: PluginConfig;
  /** Sink names, in the order of the file. */
  readonly to: readonly string[];
}

export type RouteDefinition = CompiledRoute | SetRoute;

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

export class Router {
  private readonly routes: readonly RouteDefinition[];
  /** One compiled set per plugin with `compileSet`, in the order of their first route. */
  private readonly sets: readonly CompiledSet[];
  /** Positions of the routes that have their own Matcher, in file order. */
  private readonly matcherRoutes: readonly number[];
  /**
   * False only for a record's JSON text that no route can match (the decoder may then skip
   * parsing it); undefined when some route can match records no text test rules out: a route
   * with its own Matcher, or a set without `mayMatch` (event patterns of which one pins no
   * literal value).
   */
  readonly mayMatch: ((recordJson: string) => boolean) | undefined;
  /** Positions of the routes the record being routed matches; `route` runs synchronously, so one array serves all records. */
  private readonly matched: number[] = [];
  /** Sinks the record being routed has been added to. */
  private readonly sinksOfRecord = new Set<string>();

  /**
   * Compiles the routes of each plugin with `compileSet` together. Throws what `compileSet`
   * throws (an invalid event pattern: an `InvalidEventPattern` error with the path in the
   * pattern and the route's name as `path` and `pattern` in its context), with the plugin added.
   */
  constructor(routes: readonly RouteDefinition[]) {
    this.routes = routes;
    const byPlugin = new Map<AnyPlugin, number[]>();
    const matcherRoutes: number[] = [];
    for (const [position, route] of routes.entries()) {
      if (!isSetRoute(route)) matcherRoutes.push(position);
      else {
        const positions = byPlugin.get(route.plugin);
        if (positions) positions.push(position);
        else byPlugin.set(route.plugin, [position]);
      }
    }
    this.matcherRoutes = matcherRoutes;
    this.sets = [...byPlugin].map(([plugin, positions]) => ({
      set: compileSet(
        plugin,
        positions.map((position) => routes[position] as SetRoute),
      ),
      positions,
    }));
    const sets = this.sets.map(({ set }) => set);
    const everySetTells = sets.length > 0 && sets.every((set) => typeof set.mayMatch === "function");
    if (matcherRoutes.length > 0 || !everySetTells) this.mayMatch = undefined;
    else if (sets.length === 1) {
      const only = sets[0]!;
      this.mayMatch = (recordJson) => only.mayMatch!(recordJson);
    } else this.mayMatch = (recordJson) => sets.some((set) => set.mayMatch!(recordJson));
  }

  /** Adds the record to `batch` under every sink of every route it matches, routes in file order. */
  route(record: TrailRecord, batch: RoutedBatch): void {
    this.sinksOfRecord.clear();
    if (this.sets.length === 1 && this.matcherRoutes.length === 0) {
      // Every route in one set (all event patterns): its matches are the routes, in order.
      const { set, positions } = this.sets[0]!;
      const indices = set.matchIndices(record);
      for (let i = 0; i < indices.length; i++) this.add(positions[indices[i]!]!, record, batch);
      return;
    }
    const matched = this.matched;
    matched.length = 0;
    // Each source gives ascending positions; more than one source needs a merge.
    let sources = 0;
    for (const { set, positions } of this.sets) {
      const indices = set.matchIndices(record);
      if (indices.length === 0) continue;
      sources++;
      for (let i = 0; i < indices.length; i++) matched.push(positions[indices[i]!]!);
    }
    const before = matched.length;
    for (const position of this.matcherRoutes) {
      if ((this.routes[position] as CompiledRoute).matcher.matches(record)) matched.push(position);
    }
    if (matched.length > before) sources++;
    if (sources > 1) matched.sort(ascending);
    for (let i = 0; i < matched.length; i++) this.add(matched[i]!, record, batch);
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

/** A plugin's compiled routes: `positions[i]` is the position in the file of its route i. */
interface CompiledSet {
  readonly set: MatcherSet;
  readonly positions: readonly number[];
}

function compileSet(plugin: AnyPlugin, routes: readonly SetRoute[]): MatcherSet {
  const where = { plugin: `matcher:${plugin.type}` };
  if (typeof plugin.compileSet !== "function") {
    throw new PluginError(
      "NoCompileSet",
      `the matcher plugin "${plugin.type}" has no compileSet() for route "${routes[0]!.name}"`,
      { ...where, route: routes[0]!.name },
    );
  }
  let set: MatcherSet;
  try {
    set = plugin.compileSet(routes.map((route) => ({ name: route.name, config: route.match })));
  } catch (error) {
    throw asTrailrouterError(error, "plugin", where);
  }
  if (typeof (set as Partial<MatcherSet> | undefined)?.matchIndices !== "function") {
    throw new PluginError(
      "InvalidPluginInstance",
      `the matcher plugin "${plugin.type}": compileSet() returned no object with matchIndices()`,
      where,
    );
  }
  return set;
}

function isSetRoute(route: RouteDefinition): route is SetRoute {
  return !("matcher" in route);
}

function ascending(a: number, b: number): number {
  return a - b;
}
