/**
 * CloudTrail records for tests: one plausible management event, with the fields a test cares
 * about given as overrides.
 */
import { randomUUID } from "node:crypto";
import type { TrailRecord } from "@trailrouter/core";

/** The time of every record that does not set `eventTime`: its log file is then always the same. */
export const TRAIL_RECORD_TIME = "2026-01-15T12:00:00Z";

/**
 * A CloudTrail record as CloudTrail writes it: by default an IAM `CreateUser` call by an IAM user
 * of account 111122223333 in us-east-1, at TRAIL_RECORD_TIME. Each call gets its own `eventID` and
 * `requestID`. `overrides` replace top-level fields (`eventName`, `eventSource`, `userIdentity`,
 * `requestParameters`, ...) as they are; a field set to `undefined` is left out.
 */
export function trailRecord(overrides: Partial<TrailRecord> = {}): TrailRecord {
  const accountId = overrides.recipientAccountId ?? "111122223333";
  const record: TrailRecord = {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDACKCEVSQ6C2EXAMPLE",
      arn: `arn:aws:iam::${accountId}:user/alice`,
      accountId,
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      userName: "alice",
    },
    eventTime: TRAIL_RECORD_TIME,
    eventSource: "iam.amazonaws.com",
    eventName: "CreateUser",
    awsRegion: "us-east-1",
    sourceIPAddress: "198.51.100.24",
    userAgent: "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.9",
    requestParameters: { userName: "bob" },
    responseElements: {
      user: {
        path: "/",
        userName: "bob",
        userId: "AIDAJQABLZS4A3QDU576Q",
        arn: `arn:aws:iam::${accountId}:user/bob`,
        createDate: "Jan 15, 2026, 12:00:00 PM",
      },
    },
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: "Management",
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: "iam.amazonaws.com",
    },
  };
  for (const [field, value] of Object.entries(overrides)) {
    if (value === undefined) delete record[field];
    else record[field] = value;
  }
  return record;
}
