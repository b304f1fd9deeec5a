/**
 * What an SQS message body announces: CloudTrail's own notification, an S3 event notification,
 * an S3 event through EventBridge, or set-up chatter. Pure functions, no I/O.
 */
import { NotificationError, type ObjectLocation } from "@trailrouter/core";

export type NotificationType = "cloudtrail" | "s3-event" | "eventbridge" | "validation" | "s3-test-event";

export interface Notification {
  readonly type: NotificationType;
  /** The body was an SNS envelope (not raw message delivery). */
  readonly viaSns: boolean;
  /** The announced objects, in the order the notification lists them. */
  readonly objects: AnnouncedObject[];
}

/** An object a notification announces. */
export interface AnnouncedObject extends ObjectLocation {
  /**
   * Set when URL-decoding an S3 event's key changed it: the key as the event wrote it. A key may
   * hold a literal `+` or `%`, and EventBridge's encoding of keys is not known to match S3 events',
   * so this one is read when the decoded key does not exist.
   */
  readonly keyAsWritten?: string;
}

export interface NotificationContext {
  readonly messageId: string;
}

/** The body CloudTrail sends to check a new SNS subscription. */
export const CLOUDTRAIL_VALIDATION_MESSAGE = "CloudTrail validation message.";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSnsEnvelope(value: Json): value is Json & { Message: string } {
  return (
    value.Type === "Notification" && typeof value.Message === "string" && typeof value.TopicArn === "string"
  );
}

/**
 * Understand one SQS message body. Throws a NotificationError (with the message id) for anything
 * that is not a notification of a known shape: such a message is never acknowledged on a guess.
 */
export function parseNotification(body: string, context: NotificationContext): Notification {
  const fail = (code: string, message: string, cause?: unknown): NotificationError =>
    new NotificationError(
      code,
      message,
      { messageId: context.messageId },
      cause === undefined ? undefined : { cause },
    );

  if (body.trim() === CLOUDTRAIL_VALIDATION_MESSAGE)
    return { type: "validation", viaSns: false, objects: [] };

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw fail("MalformedBody", `message body is not JSON: ${(error as Error).message}`, error);
  }
  if (!isObject(parsed)) throw fail("UnrecognizedNotification", "message body is JSON but not an object");

  if (!isSnsEnvelope(parsed)) return { ...parsePayload(parsed, fail), viaSns: false };

  const message = parsed.Message;
  if (message.trim() === CLOUDTRAIL_VALIDATION_MESSAGE)
    return { type: "validation", viaSns: true, objects: [] };
  let payload: unknown;
  try {
    payload = JSON.parse(message);
  } catch (error) {
    throw fail(
      "UnrecognizedNotification",
      "SNS message is neither JSON nor CloudTrail's validation message",
      error,
    );
  }
  if (!isObject(payload)) throw fail("UnrecognizedNotification", "SNS message is JSON but not an object");
  return { ...parsePayload(payload, fail), viaSns: true };
}

type Fail = (code: string, message: string, cause?: unknown) => NotificationError;

function parsePayload(payload: Json, fail: Fail): Omit<Notification, "viaSns"> {
  if ("s3ObjectKey" in payload || "s3Bucket" in payload) return parseCloudTrail(payload, fail);
  if ("Records" in payload) return parseS3Event(payload, fail);
  if (payload.source === "aws.s3" && typeof payload["detail-type"] === "string")
    return parseEventBridge(payload, fail);
  if (payload.Service === "Amazon S3" && payload.Event === "s3:TestEvent") {
    return { type: "s3-test-event", objects: [] };
  }
  throw fail(
    "UnrecognizedNotification",
    `not a notification this source understands (fields: ${describeFields(payload)})`,
  );
}

function describeFields(payload: Json): string {
  const names = Object.keys(payload);
  return names.length === 0 ? "none" : names.slice(0, 8).join(", ") + (names.length > 8 ? ", ..." : "");
}

/** CloudTrail's notification: one bucket, every key it delivered. */
function parseCloudTrail(payload: Json, fail: Fail): Omit<Notification, "viaSns"> {
  const bucket = payload.s3Bucket;
  if (typeof bucket !== "string" || bucket === "")
    throw fail("MissingBucket", "CloudTrail notification has no s3Bucket");
  const keys = payload.s3ObjectKey;
  if (!Array.isArray(keys)) throw fail("NoObjectKeys", "CloudTrail notification has no s3ObjectKey list");
  if (keys.length === 0) throw fail("NoObjectKeys", "CloudTrail notification lists no object key");
  const objects = keys.map((key, index) => {
    if (typeof key !== "string" || key === "") {
      throw fail(
        "InvalidObjectKey",
        `CloudTrail notification: s3ObjectKey[${index}] is not a non-empty string`,
      );
    }
    return { bucket, key };
  });
  return { type: "cloudtrail", objects };
}

/** S3 event notification: each ObjectCreated record announces one object; other events none. */
function parseS3Event(payload: Json, fail: Fail): Omit<Notification, "viaSns"> {
  const records = payload.Records;
  if (!Array.isArray(records) || records.length === 0)
    throw fail("NoObjectKeys", "S3 event notification has no records");
  const objects: AnnouncedObject[] = [];
  records.forEach((record: unknown, index) => {
    const where = `Records[${index}]`;
    if (!isObject(record) || record.eventSource !== "aws:s3" || typeof record.eventName !== "string") {
      throw fail(
        "UnrecognizedNotification",
        `${where} is not an S3 event record (eventSource "aws:s3", eventName)`,
      );
    }
    if (!record.eventName.startsWith("ObjectCreated:")) return;
    const s3 = isObject(record.s3) ? record.s3 : {};
    objects.push(
      s3Location(
        isObject(s3.bucket) ? s3.bucket.name : undefined,
        isObject(s3.object) ? s3.object.key : undefined,
        where,
        fail,
      ),
    );
  });
  return { type: "s3-event", objects };
}

/** An S3 event through EventBridge: `Object Created` announces its object; other object events none. */
function parseEventBridge(payload: Json, fail: Fail): Omit<Notification, "viaSns"> {
  const detailType = payload["detail-type"] as string;
  const detail = isObject(payload.detail) ? payload.detail : undefined;
  if (!detail || !detailType.startsWith("Object ")) {
    throw fail(
      "UnrecognizedNotification",
      `EventBridge event from aws.s3 of detail-type "${detailType}" is not an object event`,
    );
  }
  if (detailType !== "Object Created") return { type: "eventbridge", objects: [] };
  const location = s3Location(
    isObject(detail.bucket) ? detail.bucket.name : undefined,
    isObject(detail.object) ? detail.object.key : undefined,
    "detail",
    fail,
  );
  return { type: "eventbridge", objects: [location] };
}

function s3Location(bucket: unknown, key: unknown, where: string, fail: Fail): AnnouncedObject {
  if (typeof bucket !== "string" || bucket === "") throw fail("MissingBucket", `${where} has no bucket name`);
  if (typeof key !== "string" || key === "") throw fail("NoObjectKeys", `${where} has no object key`);
  const decoded = decodeS3EventKey(key);
  return decoded === key ? { bucket, key } : { bucket, key: decoded, keyAsWritten: key };
}

/**
 * S3 event keys are form-URL-encoded: `+` is a space, `%XX` an escaped byte. A key that is not
 * valid URL encoding (`100%.json.gz`) was not encoded: it is used as written.
 */
function decodeS3EventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "));
  } catch {
    return key;
  }
}

export type TrailKeyKind = "log" | "digest" | "insight" | "other";

export interface TrailKey {
  readonly kind: TrailKeyKind;
  readonly accountId?: string;
  /** Set for the keys of an organization trail (`AWSLogs/o-.../<account>/...`). */
  readonly organizationId?: string;
  readonly region?: string;
}

/** `AWSLogs/[o-org/]<account>/<folder>/<region>/`, wherever it sits; the last one is the key's own. */
const TRAIL_FOLDERS =
  /(?<=^|\/)AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/(CloudTrail|CloudTrail-Digest|CloudTrail-Insight)\/([a-z0-9-]+)\//g;

/** CloudTrail's file names: `<account>_CloudTrail[-Digest|-Insight]_<region>_...`. */
const TRAIL_FILE_NAME = /^\d{12}_(CloudTrail|CloudTrail-Digest|CloudTrail-Insight)_[a-z0-9-]+_/;

const KIND_BY_FOLDER: Record<string, TrailKeyKind> = {
  CloudTrail: "log",
  "CloudTrail-Digest": "digest",
  "CloudTrail-Insight": "insight",
};

/**
 * What CloudTrail wrote under a key: `[prefix/]AWSLogs/[o-org/]<account>/<folder>/<region>/...`,
 * where the folder says log, digest or Insights. Anything else is `other`. A prefix is the trail
 * owner's choice and may itself look like CloudTrail's layout (`CloudTrail-Digest/` before the real
 * `CloudTrail/`): the key's own layout is the last one in it, and the file name, when it has
 * CloudTrail's naming, says the kind over any folder.
 */
export function classifyTrailKey(key: string): TrailKey {
  const match = [...key.matchAll(TRAIL_FOLDERS)].at(-1);
  if (!match) return { kind: "other" };
  const [, organizationId, accountId, folder, region] = match;
  const fileName = key.slice(key.lastIndexOf("/") + 1);
  const named = TRAIL_FILE_NAME.exec(fileName)?.[1];
  return {
    kind: KIND_BY_FOLDER[named ?? folder!] ?? "other",
    accountId,
    ...(organizationId ? { organizationId } : {}),
    region,
  };
}
