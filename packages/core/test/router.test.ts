import {
  type CompiledRoute,
  type Matcher,
  type RouteDefinition,
  RoutedBatch,
  Router,
  type TrailRecord,
  TrailrouterError,
} from "@trailrouter/core";
import { compileEventPattern, PatternError } from "@trailrouter/event-pattern";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSampleRecords } from "./fixtures/cloudtrail-samples.js";

const records = loadSampleRecords();

function routeAll(router: Router, input: readonly TrailRecord[]): RoutedBatch {
  const batch = new RoutedBatch();
  for (const record of input) router.route(record, batch);
  return batch;
}

/** What routing means, route by route in file order: the behaviour the compiled router must keep. */
function routeOneByOne(routes: readonly RouteDefinition[], input: readonly TrailRecord[]): RoutedBatch {
  const matchers: Matcher[] = routes.map((route) =>
    "matcher" in route ? route.matcher : compileEventPattern(route.pattern),
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

describe("Router", () => {
  it("delivers a record once per sink, counts every matching route, keeps file order", () => {
    const routes: RouteDefinition[] = [
      { name: "iam", pattern: { eventSource: ["iam.amazonaws.com"] }, to: ["audit", "iam"] },
      { name: "named", matcher: eventNameIs("CreateUser", "ConsoleLogin"), to: ["audit"] },
      { name: "users", pattern: { eventName: [{ prefix: "CreateUser" }] }, to: ["iam", "users"] },
      { name: "nothing", pattern: { eventName: ["NoSuchEvent"] }, to: ["users"] },
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

  it("routes like route-by-route matching, for any mix of pattern and matcher routes", () => {
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
    const route = fc.oneof(
      fc.record({ pattern, to: sinks }),
      fc.record({ matcher: fc.subarray(names, { minLength: 1, maxLength: 3 }), to: sinks }),
    );
    fc.assert(
      fc.property(fc.array(route, { minLength: 1, maxLength: 12 }), (drawn) => {
        const routes: RouteDefinition[] = drawn.map((r, i) =>
          "matcher" in r
            ? ({ name: `r${i}`, matcher: eventNameIs(...r.matcher), to: r.to } satisfies CompiledRoute)
            : { name: `r${i}`, pattern: r.pattern, to: r.to },
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
    const patternRoute = { name: "users", pattern: { eventName: ["CreateUser"] }, to: ["users"] };
    const router = new Router([patternRoute]);
    expect(router.mayMatch?.('{"eventName":"CreateUser"}')).toBe(true);
    expect(router.mayMatch?.('{"eventName":"DeleteUser"}')).toBe(false);
    const withMatcher = new Router([
      patternRoute,
      { name: "all", matcher: { matches: () => true }, to: ["all"] },
    ]);
    expect(withMatcher.mayMatch).toBeUndefined();
    const batch = new RoutedBatch();
    withMatcher.route({ eventName: "DeleteUser" }, batch);
    expect(batch.perRoute.get("all")).toBe(1);
  });

  it("refuses an invalid pattern, naming the route", () => {
    let error: unknown;
    try {
      new Router([{ name: "broken", pattern: { eventName: [] }, to: ["a"] }]);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TrailrouterError);
    expect(error).toMatchObject({ stage: "pattern", code: "InvalidEventPattern" });
    expect((error as TrailrouterError).message).toBe("eventName: Empty arrays are not allowed");
    expect((error as TrailrouterError).context).toMatchObject({ path: "eventName", pattern: "broken" });
    expect((error as TrailrouterError).cause).toBeInstanceOf(PatternError);
  });
});
