/**
 * Deterministic CloudTrail traffic: management events shaped like the ones real trails carry,
 * cheap enough to produce millions for benchmarks.
 */
import type { TrailRecord } from "@trailrouter/core";
import {
  type Account,
  type Actor,
  BROWSER_USER_AGENT,
  type Call,
  CONSOLE_LOGIN,
  CONSOLE_LOGIN_DATA,
  createAccount,
  deepFreeze,
  EVENTS,
  type EventSpec,
  serviceActor,
  USER_AGENTS,
} from "./catalog.js";
import { Draw } from "./draw.js";
import { loadSampleRecords } from "./samples.js";

export interface TrafficOptions {
  /** Same seed and options, same records (the seed is used as a 32-bit integer). */
  seed: number;
  /** How many records to produce. */
  count: number;
  /** 12-digit account ids the records are spread over. Default three example accounts. */
  accountIds?: readonly string[];
  /** Regions the records are spread over. Default us-east-1, us-west-2, eu-west-1. */
  regions?: readonly string[];
  /** Start of the window the event times spread over. Default 2026-01-01T00:00:00Z. */
  start?: Date | string | number;
  /** Length of the window. Default one hour. */
  durationMs?: number;
  /**
   * Share (0 to 1) of records taken from the real Stratus Red Team samples instead of generated.
   * They keep their own account and region and get a fresh eventID and an eventTime in the window.
   * Default 0.
   */
  sampleShare?: number;
}

export const DEFAULT_ACCOUNT_IDS: readonly string[] = ["111122223333", "444455556666", "777788889999"];
export const DEFAULT_REGIONS: readonly string[] = ["us-east-1", "us-west-2", "eu-west-1"];
const DEFAULT_START = Date.UTC(2026, 0, 1);

/** Calls that fail for lack of permission, the most common error in a trail. */
const ACCESS_DENIED_SHARE = 0.015;
const FAILED_CONSOLE_LOGIN_SHARE = 0.08;

function validate(options: TrafficOptions): void {
  if (!Number.isInteger(options.seed)) throw new RangeError("seed must be an integer");
  if (!Number.isSafeInteger(options.count) || options.count < 0) {
    throw new RangeError("count must be a non-negative integer");
  }
  const accountIds = options.accountIds ?? DEFAULT_ACCOUNT_IDS;
  if (accountIds.length === 0 || accountIds.some((id) => !/^\d{12}$/.test(id))) {
    throw new RangeError("accountIds must be a non-empty list of 12-digit account ids");
  }
  if ((options.regions ?? DEFAULT_REGIONS).length === 0) throw new RangeError("regions must not be empty");
  const share = options.sampleShare ?? 0;
  if (!(share >= 0 && share <= 1)) throw new RangeError("sampleShare must be between 0 and 1");
  if (options.durationMs !== undefined && !(options.durationMs > 0)) {
    throw new RangeError("durationMs must be positive");
  }
  if (options.start !== undefined && Number.isNaN(new Date(options.start).getTime())) {
    throw new RangeError(`start is not a valid time: ${String(options.start)}`);
  }
}

/** Index of the event whose cumulative weight first exceeds `point`. */
function eventAt(cumulative: Float64Array, point: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle]! > point) high = middle;
    else low = middle + 1;
  }
  return low;
}

function tlsDetails(event: EventSpec, region: string) {
  const service = event.source.slice(0, event.source.indexOf("."));
  const host =
    event === CONSOLE_LOGIN
      ? "signin.aws.amazon.com"
      : event.global
        ? `${service}.amazonaws.com`
        : `${service}.${region}.amazonaws.com`;
  return deepFreeze({
    tlsVersion: "TLSv1.3",
    cipherSuite: "TLS_AES_128_GCM_SHA256",
    clientProvidedHostHeader: host,
  });
}

function pickActor(draw: Draw, account: Account, event: EventSpec): Actor {
  if (event.services && draw.float() < 0.5) return serviceActor(draw.pick(event.services));
  const roll = draw.float();
  if (roll < (event === CONSOLE_LOGIN ? 0.05 : 0.005)) return account.root;
  if (roll < 0.62) return draw.pick(event === CONSOLE_LOGIN ? account.signInRoles : account.roles);
  return draw.pick(account.users);
}

function accessDenied(event: EventSpec, actor: Actor): { errorCode: string; errorMessage: string } {
  const action = `${event.source.slice(0, event.source.indexOf("."))}:${event.name}`;
  const reason = `User: ${actor.arn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`;
  return event.source === "ec2.amazonaws.com"
    ? {
        errorCode: "Client.UnauthorizedOperation",
        errorMessage: `You are not authorized to perform this operation. ${reason}`,
      }
    : { errorCode: "AccessDenied", errorMessage: reason };
}

/**
 * `count` CloudTrail records in time order over the window, produced one at a time: for corpora
 * too large to hold at once. Shared parts (userIdentity, tlsDetails, constant requestParameters)
 * are frozen objects reused across records: copy a record before changing anything nested in it.
 */
export function streamTraffic(options: TrafficOptions): IterableIterator<TrailRecord> {
  validate(options);
  return records(options);
}

/** The records of `streamTraffic`, in an array. */
export function generateTraffic(options: TrafficOptions): TrailRecord[] {
  return Array.from(streamTraffic(options));
}

function* records(options: TrafficOptions): Generator<TrailRecord, void, undefined> {
  const draw = new Draw(options.seed);
  const regions = options.regions ?? DEFAULT_REGIONS;
  const start = options.start === undefined ? DEFAULT_START : new Date(options.start).getTime();
  const since = new Date(start).toISOString().replace(/\.\d{3}Z$/, "Z");
  const accounts = (options.accountIds ?? DEFAULT_ACCOUNT_IDS).map((id) =>
    createAccount(draw, id, regions, since),
  );
  const globalRegion = "us-east-1";
  const tls = EVENTS.map((event) => regions.map((region) => tlsDetails(event, region)));
  const cumulative = new Float64Array(EVENTS.length);
  let totalWeight = 0;
  for (const [index, event] of EVENTS.entries()) {
    totalWeight += event.weight;
    cumulative[index] = totalWeight;
  }
  const sampleShare = options.sampleShare ?? 0;
  const samples = sampleShare > 0 ? deepFreeze(loadSampleRecords()) : [];
  const step = (options.durationMs ?? 3_600_000) / Math.max(options.count, 1);

  const call: Call = {
    draw,
    account: accounts[0]!,
    region: regions[0]!,
    regionIndex: 0,
    actor: accounts[0]!.root,
    time: start,
  };
  let second = Number.NaN;
  let eventTime = "";
  for (let index = 0; index < options.count; index++) {
    const time = Math.floor(start + (index + draw.float()) * step);
    // Many records share a second: format each second once.
    if (Math.floor(time / 1000) !== second) {
      second = Math.floor(time / 1000);
      eventTime = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    }
    if (sampleShare > 0 && draw.float() < sampleShare) {
      yield { ...draw.pick(samples), eventID: draw.uuid(), eventTime };
      continue;
    }

    const eventIndex = eventAt(cumulative, draw.float() * totalWeight);
    const event = EVENTS[eventIndex]!;
    const account = draw.pick(accounts);
    const regionIndex = draw.int(regions.length);
    const actor = pickActor(draw, account, event);
    call.account = account;
    call.region = event.global ? globalRegion : regions[regionIndex]!;
    call.regionIndex = regionIndex;
    call.actor = actor;
    call.time = time;
    const isService = actor.type === "AWSService";
    const isConsoleLogin = event === CONSOLE_LOGIN;
    const denied = !isService && !isConsoleLogin && draw.float() < ACCESS_DENIED_SHARE;
    const requestParameters = event.request(call);

    const record: TrailRecord = {
      eventVersion: isConsoleLogin ? "1.09" : "1.10",
      userIdentity: isConsoleLogin ? actor.consoleIdentity : actor.identity,
      eventTime,
      eventSource: event.source,
      eventName: event.name,
      awsRegion: call.region,
      sourceIPAddress: isService ? actor.arn : draw.pick(account.ipAddresses),
      userAgent: isService ? actor.arn : isConsoleLogin ? BROWSER_USER_AGENT : draw.pick(USER_AGENTS),
      requestParameters,
      responseElements: denied || !event.response ? null : event.response(call, requestParameters),
      eventID: draw.uuid(),
      readOnly: event.readOnly,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: account.id,
      eventCategory: "Management",
      tlsDetails: tls[eventIndex]![regionIndex]!,
    };
    // Console sign-ins have no request id and report their outcome in responseElements.
    if (!isConsoleLogin) record.requestID = draw.uuid();
    if (event.resources) record.resources = event.resources(call, requestParameters);
    if (denied) Object.assign(record, accessDenied(event, actor));
    if (isConsoleLogin) {
      record.eventType = "AwsConsoleSignIn";
      const failed = draw.float() < FAILED_CONSOLE_LOGIN_SHARE;
      record.responseElements = failed ? CONSOLE_LOGIN_DATA.failure : CONSOLE_LOGIN_DATA.success;
      if (failed) record.errorMessage = "Failed authentication";
      record.additionalEventData =
        draw.float() < 0.8 ? CONSOLE_LOGIN_DATA.withMfa : CONSOLE_LOGIN_DATA.withoutMfa;
    }
    yield record;
  }
}
