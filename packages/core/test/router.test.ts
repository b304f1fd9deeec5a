import {
  definePlugin,
  eventPatternMatcher,
  type Matcher,
  type MatcherSetRoute,
  RoutedBatch,
  Router,
  type SetRoute,
  type TrailRecord,
  TrailrouterError,
} from "@trailrouter/core";
import { PatternError } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CompiledRoute, RouteDefinition } from "../src/runtime/router.js";
import { loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

const records = loadSampleRecords();

function routeAll(router: Router, input: readonly TrailRecord[]): RoutedBatch {
  const batch = new RoutedBatch();
  for (const record of input) router.route(record, batch);
  return batch;
}

/** A route of the event-pattern matcher, compiled with the others by the router. */
function patternRoute(name: string, pattern: unknown, to: readonly string[]): SetRoute {
  return { name, plugin: eventPatternMatcher, match: { type: "event-pattern", pattern }, to };
}

/**
 * What routing means, route by route in file order: the behaviour the compiled router must keep.
 * A route of a plugin with compileSet is matched by what the plugin's create() makes of it.
 */
function routeOneByOne(routes: readonly RouteDefinition[], input: readonly TrailRecord[]): RoutedBatch {
  const matchers: Matcher[] = routes.map((route) =>
    "matcher" in route ? route.matcher : (route.plugin.create(route.match, {} as never) as Matcher),
  );
  const batch = new RoutedBatch();
  for (const record of input) {
    const sinks = new Set<string>();
    routes.forEach((route, i) => {
      if (!matchers[i]!.matches(record)) return;
      batch.perRoute.set(route.name, (batch.perRoute.get(route.name) ?? 0) + 1);
      for (const sink of route.to) {
        if (sinks.has(sink)) continue;
        sinks.add(sink);
        batch.bySink.set(sink, [...(batch.bySink.get(sink) ?? []), record]);
      }
    });
  }
  return batch;
}

const eventNameIs = (...names: string[]): Matcher => ({
  matches: (record) => names.includes(record.eventName ?? ""),
});

/**
 * A matcher plugin with compileSet other than event-pattern: its routes by event name, all of
 * them found by one lookup; `mayMatch` (when asked for) looks for the names in the text.
 */
function eventNamesPlugin(options: { mayMatch?: boolean } = {}) {
  const compiled: MatcherSetRoute<{ names: string[] }>[][] = [];
  const plugin = definePlugin<"matcher", { names: string[] }>({
    kind: "matcher",
    type: "event-names",
    schema: { type: "object", properties: { names: { type: "array", items: { type: "string" } } } },
    create: (config) => eventNameIs(...config.names),
    compileSet(routes) {
      compiled.push([...routes]);
      const byName = new Map<string, number[]>();
      routes.forEach((route, i) => {
        for (const name of new Set(route.config.names)) byName.set(name, [...(byName.get(name) ?? []), i]);
      });
      return {
        matchIndices: (record) => byName.get(record.eventName ?? "") ?? [],
        ...(options.mayMatch && {
          mayMatch: (recordJson: string) =>
            [...byName.keys()].some((name) => recordJson.includes(`"${name}"`)),
        }),
      };
    },
  });
  const route = (name: string, names: string[], to: readonly string[]): SetRoute => ({
    name,
    plugin,
    match: { type: plugin.type, names },
    to,
  });
  return { plugin, compiled, route };
}

describe("Router", () => {
  it("delivers a record once per sink, counts every matching route, keeps file order", () => {
    const routes: RouteDefinition[] = [
      patternRoute("iam", { eventSource: ["iam.amazonaws.com"] }, ["audit", "iam"]),
      { name: "named", matcher: eventNameIs("CreateUser", "ConsoleLogin"), to: ["audit"] },
      patternRoute("users", { eventName: [{ prefix: "CreateUser" }] }, ["iam", "users"]),
      patternRoute("nothing", { eventName: ["NoSuchEvent"] }, ["users"]),
    ];
    const createUser = records.find((r) => r.eventName === "CreateUser")!;
    const login = records.find((r) => r.eventName === "ConsoleLogin")!;
    const batch = routeAll(new Router(routes), [createUser, login]);
    expect(Object.fromEntries(batch.perRoute)).toEqual({ iam: 1, named: 2, users: 1 });
    expect(batch.bySink.get("audit")).toEqual([createUser, login]);
    expect(batch.bySink.get("iam")).toEqual([createUser]);
    expect(batch.bySink.get("users")).toEqual([createUser]);
    expect([...batch.bySink.keys()]).toEqual(["audit", "iam", "users"]);
  });

  it("routes like route-by-route matching, for any mix of pattern, other set and matcher routes", () => {
    const names = [...new Set(records.map((r) => r.eventName!))];
    const sources = [...new Set(records.map((r) => r.eventSource!))];
    const pattern = fc.oneof(
      fc.subarray(names, { minLength: 1, maxLength: 3 }).map((n) => ({ eventName: n })),
      fc
        .constantFrom(...sources)
        .map((s) => ({ eventSource: [s], userIdentity: { type: [{ exists: true }] } })),
      fc.constantFrom("Create", "Delete", "Get", "List").map((p) => ({ eventName: [{ prefix: p }] })),
      fc.constantFrom(...sources).map((s) => ({ eventSource: [{ "anything-but": s }] })),
    );
    const sinks = fc.subarray(["a", "b", "c"], { minLength: 1 });
    const someNames = fc.subarray(names, { minLength: 1, maxLength: 3 });
    const route = fc.oneof(
      fc.record({ pattern, to: sinks }),
      fc.record({ matcher: someNames, to: sinks }),
      fc.record({ inSet: someNames, to: sinks }),
    );
    const eventNames = eventNamesPlugin();
    fc.assert(
      fc.property(fc.array(route, { minLength: 1, maxLength: 12 }), (drawn) => {
        const routes: RouteDefinition[] = drawn.map((r, i) =>
          "matcher" in r
            ? ({ name: `r${i}`, matcher: eventNameIs(...r.matcher), to: r.to } satisfies CompiledRoute)
            : "inSet" in r
              ? eventNames.route(`r${i}`, r.inSet, r.to)
              : patternRoute(`r${i}`, r.pattern, r.to),
        );
        const expected = routeOneByOne(routes, records);
        const actual = routeAll(new Router(routes), records);
        expect([...actual.perRoute]).toEqual([...expected.perRoute]);
        expect([...actual.bySink]).toEqual([...expected.bySink]);
      }),
      { numRuns: 100 },
    );
  });

  it("has the prefilter of the patterns only when every route is an event pattern", () => {
    const users = patternRoute("users", { eventName: ["CreateUser"] }, ["users"]);
    const router = new Router([users]);
    expect(router.mayMatch?.('{"eventName":"CreateUser"}')).toBe(true);
    expect(router.mayMatch?.('{"eventName":"DeleteUser"}')).toBe(false);
    const withMatcher = new Router([users, { name: "all", matcher: { matches: () => true }, to: ["all"] }]);
    expect(withMatcher.mayMatch).toBeUndefined();
    const batch = new RoutedBatch();
    withMatcher.route({ eventName: "DeleteUser" }, batch);
    expect(batch.perRoute.get("all")).toBe(1);
  });

  it("compiles the routes of each plugin with compileSet together, once, in file order", () => {
    const eventNames = eventNamesPlugin();
    const routes: RouteDefinition[] = [
      eventNames.route("logins", ["ConsoleLogin"], ["audit"]),
      patternRoute("iam", { eventSource: ["iam.amazonaws.com"] }, ["iam"]),
      { name: "named", matcher: eventNameIs("CreateUser"), to: ["named"] },
      eventNames.route("users", ["CreateUser", "DeleteUser"], ["users", "audit"]),
      patternRoute("creates", { eventName: [{ prefix: "Create" }] }, ["audit"]),
    ];
    const router = new Router(routes);
    expect(eventNames.compiled).toEqual([
      [
        { name: "logins", config: { type: "event-names", names: ["ConsoleLogin"] } },
        { name: "users", config: { type: "event-names", names: ["CreateUser", "DeleteUser"] } },
      ],
    ]);
    const createUser = records.find((r) => r.eventName === "CreateUser")!;
    const login = records.find((r) => r.eventName === "ConsoleLogin")!;
    const batch = routeAll(router, [createUser, login]);
    expect([...batch.perRoute]).toEqual([
      ["iam", 1],
      ["named", 1],
      ["users", 1],
      ["creates", 1],
      ["logins", 1],
    ]);
    expect([...batch.bySink.keys()]).toEqual(["iam", "named", "users", "audit"]);
    expect(batch.bySink.get("audit")).toEqual([createUser, login]);
    expect(router.routesFeeding(createUser, "audit")).toEqual(["users", "creates"]);
  });

  it("may rule a record's text out only when every set of routes can, and any set lets it through", () => {
    const telling = eventNamesPlugin({ mayMatch: true });
    const users = patternRoute("users", { eventName: ["CreateUser"] }, ["users"]);
    const both = new Router([users, telling.route("logins", ["ConsoleLogin"], ["logins"])]);
    expect(both.mayMatch?.('{"eventName":"CreateUser"}')).toBe(true);
    expect(both.mayMatch?.('{"eventName":"ConsoleLogin"}')).toBe(true);
    expect(both.mayMatch?.('{"eventName":"DeleteUser"}')).toBe(false);
    const silent = eventNamesPlugin();
    expect(
      new Router([users, silent.route("logins", ["ConsoleLogin"], ["logins"])]).mayMatch,
    ).toBeUndefined();
    expect(new Router([silent.route("logins", ["ConsoleLogin"], ["logins"])]).mayMatch).toBeUndefined();
    expect(new Router([]).mayMatch).toBeUndefined();
  });

  it("reports a compileSet that throws or returns no set, with the plugin", () => {
    const failing = definePlugin<"matcher", Record<string, unknown>>({
      kind: "matcher",
      type: "failing",
      schema: { type: "object", properties: {} },
      create: () => ({ matches: () => false }),
      compileSet: () => {
        throw new Error("out of cheese");
      },
    });
    const route = (plugin: typeof failing): SetRoute => ({
      name: "r",
      plugin,
      match: { type: plugin.type },
      to: ["a"],
    });
    expect(() => new Router([route(failing)])).toThrow(
      expect.objectContaining({ message: "out of cheese", context: { plugin: "matcher:failing" } }),
    );
    const empty = { ...failing, type: "empty", compileSet: () => ({}) as never };
    expect(() => new Router([route(empty)])).toThrow(
      expect.objectContaining({ code: "InvalidPluginInstance", context: { plugin: "matcher:empty" } }),
    );
  });

  it("refuses an invalid pattern, naming the route", () => {
    let error: unknown;
    try {
      new Router([patternRoute("broken", { eventName: [] }, ["a"])]);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TrailrouterError);
    expect(error).toMatchObject({ stage: "pattern", code: "InvalidEventPattern" });
    expect((error as TrailrouterError).message).toBe("eventName: Empty arrays are not allowed");
    expect((error as TrailrouterError).context).toMatchObject({
      path: "eventName",
      pattern: "broken",
      route: "broken",
      plugin: "matcher:event-pattern",
    });
    expect((error as TrailrouterError).cause).toBeInstanceOf(PatternError);
  });
});
