/**
 * Which queue a queue URL names. One queue has several spellings (`sqs.us-east-1.amazonaws.com`,
 * `us-east-1.queue.amazonaws.com`, the legacy `queue.amazonaws.com`, a trailing slash, a host in
 * capitals), so two URLs are compared by what they name, not by their text.
 */

export interface QueueIdentity {
  /** The region of an AWS endpoint; for any other host (an emulator, a VPC endpoint) its `host:port`, lowercased. */
  readonly location: string;
  readonly accountId: string;
  /** Case-sensitive, as SQS queue names are. */
  readonly queueName: string;
}

const SQS_REGIONAL_HOST = /^sqs(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const QUEUE_REGIONAL_HOST = /^([a-z0-9-]+)\.queue\.amazonaws\.com$/;
/** The legacy endpoint, which only ever served us-east-1. */
const QUEUE_LEGACY_HOST = "queue.amazonaws.com";

/**
 * The queue a URL names: the region from the host, account and name from the last two path
 * segments. Undefined when the text is not a URL with two path segments.
 */
export function queueIdentity(url: string): QueueIdentity | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const segments = parsed.pathname.split("/").filter((segment) => segment !== "");
  if (segments.length < 2) return undefined;
  const [accountId, queueName] = segments.slice(-2).map(decodeSegment) as [string, string];
  return { location: locationOf(parsed), accountId, queueName };
}

/** Whether two queue URLs name the same queue; URLs that name no queue are compared as written. */
export function sameQueue(a: string, b: string): boolean {
  return queueKey(a) === queueKey(b);
}

/** A string that is equal for two URLs of the same queue. */
export function queueKey(url: string): string {
  const identity = queueIdentity(url);
  return identity ? `${identity.location}/${identity.accountId}/${identity.queueName}` : url;
}

function locationOf(url: URL): string {
  const hostname = url.hostname.toLowerCase();
  if (hostname === QUEUE_LEGACY_HOST) return "us-east-1";
  const region = SQS_REGIONAL_HOST.exec(hostname)?.[1] ?? QUEUE_REGIONAL_HOST.exec(hostname)?.[1];
  return region ?? url.host.toLowerCase();
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
