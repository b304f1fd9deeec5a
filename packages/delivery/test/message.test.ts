import { createHash } from "node:crypto";
import type { TrailRecord } from "@trailrouter/core";
import { encodeMessage, messageServicesAccept, toEventBridgeEvent } from "@trailrouter/delivery";
import { describe, expect, it } from "vitest";
import { batchEntryFailures, MESSAGE_ATTRIBUTE_FIELDS } from "../src/message.js";

const record: TrailRecord = {
  eventID: "6f2c0a2e-1c1b-4c1e-9a57-0c7f6f1a2b3c",
  eventTime: "2024-05-01T12:00:00Z",
  eventName: "CreateUser",
  eventSource: "iam.amazonaws.com",
  awsRegion: "us-east-1",
  recipientAccountId: "123456789012",
  userIdentity: { accountId: "999988887777", sessionContext: { depth: 3 } },
  requestParameters: { userName: "zoë" },
};

describe("encodeMessage", () => {
  it("sends the record as JSON with its filterable fields as string attributes", () => {
    const message = encodeMessage(record);
    expect(message.body).toBe(JSON.stringify(record));
    expect(message.attributes).toEqual(
      Object.fromEntries(
        MESSAGE_ATTRIBUTE_FIELDS.map((name) => [name, { DataType: "String", StringValue: record[name] }]),
      ),
    );
    expect(message).not.toHaveProperty("groupId");
    expect(message).not.toHaveProperty("deduplicationId");
  });

  it("counts UTF-8 bytes of the body and of each attribute's name, type and value", () => {
    const message = encodeMessage(record);
    const attributeBytes = MESSAGE_ATTRIBUTE_FIELDS.reduce(
      (sum, name) => sum + name.length + "String".length + String(record[name]).length,
      0,
    );
    // "zoë" is 4 bytes in UTF-8, 3 UTF-16 units.
    expect(message.bytes).toBe(JSON.stringify(record).length + 1 + attributeBytes);
  });

  it("leaves out attributes whose field is missing, empty or not a string", () => {
    const message = encodeMessage({
      ...record,
      awsRegion: "",
      eventSource: 7 as never,
      eventName: undefined,
    });
    expect(Object.keys(message.attributes)).toEqual(["recipientAccountId"]);
    expect(message.bytes).toBe(
      Buffer.byteLength(message.body) + "recipientAccountIdString123456789012".length,
    );
  });

  it("wraps the body in EventBridge's envelope and keeps the record's attributes", () => {
    const message = encodeMessage(record, { format: "eventbridge", fifo: true });
    expect(JSON.parse(message.body)).toEqual(toEventBridgeEvent(record));
    expect(message.attributes).toEqual(encodeMessage(record).attributes);
    expect(message.groupId).toBe("123456789012");
    expect(message.deduplicationId).toBe(record.eventID);
  });

  it("takes the FIFO group from the configured field, then eventSource, then a fixed group", () => {
    const group = (fields: Partial<TrailRecord>, messageGroupIdField?: string) =>
      encodeMessage({ ...record, ...fields }, { fifo: true, messageGroupIdField }).groupId;
    expect(group({})).toBe("123456789012");
    expect(group({}, "userIdentity.accountId")).toBe("999988887777");
    expect(group({}, "userIdentity.sessionContext.depth")).toBe("3");
    expect(group({}, "userIdentity")).toBe("iam.amazonaws.com");
    expect(group({ recipientAccountId: "" })).toBe("iam.amazonaws.com");
    expect(group({ recipientAccountId: undefined, eventSource: undefined })).toBe("trailrouter");
  });

  it("deduplicates on the eventID, or on a hash of the body without one", () => {
    const withoutId = { ...record, eventID: undefined };
    const message = encodeMessage(withoutId, { fifo: true });
    expect(message.deduplicationId).toBe(createHash("sha256").update(message.body).digest("hex"));
    expect(encodeMessage(withoutId, { fifo: true }).deduplicationId).toBe(message.deduplicationId);
  });
});

describe("encodeMessage, characters the services refuse", () => {
  const hostile: TrailRecord = {
    ...record,
    userAgent: "aws-cli/2\ufffe \uffff🦆",
    requestParameters: { userName: "zoë\uffff" },
  };

  it("escapes U+FFFE and U+FFFF in the body, which parses back to the record, counted as sent", () => {
    for (const format of ["record", "eventbridge"] as const) {
      const message = encodeMessage(hostile, { format });
      expect(message.body).not.toMatch(/[\ufffe\uffff]/);
      expect(message.body).toContain("\\ufffe \\uffff🦆");
      expect(messageServicesAccept(message.body)).toBe(true);
      expect(JSON.parse(message.body)).toEqual(format === "record" ? hostile : toEventBridgeEvent(hostile));
      const attributeBytes = Object.entries(message.attributes).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name + value.DataType + value.StringValue),
        0,
      );
      expect(message.bytes).toBe(Buffer.byteLength(message.body) + attributeBytes);
    }
  });

  it("leaves out an attribute whose value holds a character the services refuse, and does not count it", () => {
    for (const eventName of [
      "Create\uffffUser",
      "Create\ufffeUser",
      "Create\u0001User",
      "Create\ud800User",
    ]) {
      const message = encodeMessage({ ...record, eventName });
      expect(Object.keys(message.attributes)).toEqual(["eventSource", "awsRegion", "recipientAccountId"]);
      expect(JSON.parse(message.body).eventName).toBe(eventName);
      expect(message.bytes).toBe(
        Buffer.byteLength(message.body) +
          Buffer.byteLength("eventSourceStringiam.amazonaws.comawsRegionStringus-east-1") +
          Buffer.byteLength("recipientAccountIdString123456789012"),
      );
    }
    // Characters above U+FFFF are valid in SQS and SNS attributes.
    expect(encodeMessage({ ...record, eventName: "Create🦆" }).attributes.eventName).toEqual({
      DataType: "String",
      StringValue: "Create🦆",
    });
  });
});

describe("batchEntryFailures", () => {
  const sns = { name: "SNS", permanentEntryErrors: new Set(["InvalidParameter"]) };

  it("retries what the service failed on its side, not what the sender got wrong", () => {
    const result = batchEntryFailures(
      4,
      [{ Id: "0" }, { Id: "3" }],
      [
        { Id: "1", SenderFault: false, Code: "InternalError", Message: "try again" },
        { Id: "2", SenderFault: true, Code: "InvalidParameter", Message: "Message too long" },
      ],
      sns,
    );
    expect(result.failed).toEqual([
      { index: 1, code: "InternalError", message: "try again", retryable: true, permanent: false },
      { index: 2, code: "InvalidParameter", message: "Message too long", retryable: false, permanent: true },
    ]);
  });

  it("makes permanent only a sender fault with one of the service's permanent codes", () => {
    const result = batchEntryFailures(
      3,
      [],
      [
        { Id: "0", SenderFault: true, Code: "KMSAccessDenied", Message: "denied" },
        { Id: "1", SenderFault: false, Code: "InvalidParameter", Message: "odd" },
        { Id: "2", SenderFault: true, Code: "InvalidParameter", Message: "too long" },
      ],
      sns,
    );
    expect(result.failed.map(({ index, retryable, permanent }) => [index, retryable, permanent])).toEqual([
      [0, false, false],
      [1, true, false],
      [2, false, true],
    ]);
  });

  it("treats an entry in neither list as not sent, and names the service when it gave no reason", () => {
    const result = batchEntryFailures(3, [{ Id: "0" }], [{ Id: "2" }], {
      name: "SQS",
      permanentEntryErrors: new Set(),
    });
    expect(result.failed).toEqual([
      { index: 2, code: "UnknownError", message: "SQS gave no reason", retryable: true, permanent: false },
      {
        index: 1,
        code: "NoResult",
        message: "SQS returned no result for the entry",
        retryable: true,
        permanent: false,
      },
    ]);
  });
});
