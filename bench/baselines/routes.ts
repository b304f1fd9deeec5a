/**
 * What both baselines are told: the queue to read, and routes as a plain script would write them
 * (an event source and event names each, and the queue matches go to).
 */
export interface PlainRoute {
  readonly eventSources: readonly string[];
  readonly eventNames: readonly string[];
  readonly queueUrl: string;
}

export interface BaselineSettings {
  readonly queueUrl: string;
  readonly routes: readonly PlainRoute[];
}

/** From the environment: TRAIL_QUEUE_URL and ROUTES (JSON). */
export function settingsFromEnvironment(): BaselineSettings {
  const queueUrl = process.env.TRAIL_QUEUE_URL;
  const routes = process.env.ROUTES;
  if (!queueUrl || !routes) throw new Error("set TRAIL_QUEUE_URL and ROUTES");
  return { queueUrl, routes: JSON.parse(routes) as PlainRoute[] };
}

/** The queue a record goes to, if any: the first route whose source and name it has. */
export function routeOf(
  record: { eventSource?: unknown; eventName?: unknown },
  routes: readonly PlainRoute[],
): PlainRoute | undefined {
  return routes.find(
    (route) =>
      route.eventSources.includes(record.eventSource as string) &&
      route.eventNames.includes(record.eventName as string),
  );
}
