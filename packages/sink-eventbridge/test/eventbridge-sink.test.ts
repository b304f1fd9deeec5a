import {
  CreateEventBusCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import {
  awsClientFactory,
  DeliveryError,
  type Sink,
  type TrailRecord,
  type WithoutDefaults,
  withDefaults,
} from "@trailrouter/core";
import { toEventBridgeEvent } from "@trailrouter/delivery";
import { type MotoAws, pluginContext, recordCommands, startMoto } from "@trailrouter/local-aws";
import { type EventBridgeSinkConfig, eventBridgeSink } from "@trailrouter/sink-eventbridge";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/** An event as an SQS target of a rule receives it. */
interface DeliveredEvent {
  id: string;
  source: string;
  "detail-type": string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

let moto: MotoAws;
let nameCount = 0;
/** Inputs of the PutEvents commands the sinks under test sent. */
const putRequests: { Entries: PutEventsRequestEntry[] }[] = [];
const openSinks: Sink[] = [];

beforeAll(async () => {
  moto = await startMoto();
});
afterEach(async () => {
  putRequests.length = 0;
  await Promise.all(openSinks.splice(0).map((sink) => sink.close()));
});
afterAll(async () => {
  await moto?.stop();
});

async function createSink(options: WithoutDefaults<EventBridgeSinkConfig> = {}): Promise<Sink> {
  const context = pluginContext({
    name: "bus",
    // Clients as the pipeline builds them, recording every PutEvents request they send.
    aws: recordCommands(awsClientFactory({ endpoint: moto.endpoint, region: moto.region }), (command) => {
      if (command.name === "PutEventsCommand") putRequests.push(command.input as never);
    }),
  });
  const sink = await eventBridgeSink.create(withDefaults(eventBridgeSink, options), context);
  openSinks.push(sink);
  return sink;
}

/** A queue that receives the events `pattern` matches on `eventBusName` (a rule with an SQS target). */
async function ruleToQueue(pattern: Record<string, unknown>, eventBusName?: string): Promise<string> {
  const name = `events-${++nameCount}`;
  const { QueueUrl } = await moto.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await moto.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await moto.events.send(
    new PutRuleCommand({ Name: name, EventBusName: eventBusName, EventPattern: JSON.stringify(pattern) }),
  );
  await moto.events.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: eventBusName,
      Targets: [{ Id: "queue", Arn: Attributes?.QueueArn }],
    }),
  );
  return QueueUrl!;
}

/** Receives (and deletes) every event in the queue. */
async function receiveEvents(queueUrl: string): Promise<DeliveredEvent[]> {
  const events: DeliveredEvent[] = [];
  for (;;) {
    const { Messages = [] } = await moto.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) return events;
    events.push(...Messages.map((m) => JSON.parse(m.Body ?? "{}") as DeliveredEvent));
    await moto.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

function trailRecord(n: number, fields: Partial<TrailRecord> = {}): TrailRecord {
  return {
    eventVersion: "1.08",
    eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    eventTime: `2024-05-01T12:${String(n % 60).padStart(2, "0")}:00Z`,
    eventType: "AwsApiCall",
    eventName: "RunInstances",
    eventSource: "ec2.amazonaws.com",
    awsRegion: "eu-west-1",
    recipientAccountId: "123456789012",
    requestParameters: { n },
    ...fields,
  };
}

const eventIds = (events: DeliveredEvent[]) => events.map((event) => event.detail.eventID).sort();
const recordIds = (records: TrailRecord[]) => records.map((record) => record.eventID).sort();

describe("eventbridge sink against moto", () => {
  it("puts records on the default bus, 10 per request; a rule's queue gets the matching ones only", async () => {
    const createUserQueue = await ruleToQueue({
      source: ["trailrouter"],
      detail: { eventName: ["CreateUser"] },
    });
    const everythingQueue = await ruleToQueue({ source: ["trailrouter"] });
    const sink = await createSink();
    const records = Array.from({ length: 25 }, (_, n) =>
      trailRecord(n, n % 3 === 0 ? { eventName: "CreateUser", eventSource: "iam.amazonaws.com" } : {}),
    );

    expect(await sink.deliver(records)).toEqual({ delivered: 25, failed: [] });

    expect(putRequests.map((request) => request.Entries.length)).toEqual([10, 10, 5]);
    const createUsers = records.filter((record) => record.eventName === "CreateUser");
    const received = await receiveEvents(createUserQueue);
    expect(eventIds(received)).toEqual(recordIds(createUsers));
    expect(eventIds(await receiveEvents(everythingQueue))).toEqual(recordIds(records));
    for (const event of received) {
      const record = createUsers.find((r) => r.eventID === event.detail.eventID);
      expect(event).toMatchObject({
        source: "trailrouter",
        "detail-type": "AWS API Call via CloudTrail",
        time: record?.eventTime,
        resources: [],
        detail: record,
      });
    }
  });

  it("puts records on a named bus, addressed by ARN or by name, and not on the default bus", async () => {
    const { EventBusArn } = await moto.events.send(new CreateEventBusCommand({ Name: "audit" }));
    const auditQueue = await ruleToQueue({ source: ["trailrouter"] }, "audit");
    const defaultBusQueue = await ruleToQueue({ source: ["trailrouter"] });
    const byArn = [trailRecord(1), trailRecord(2)];
    const byName = [trailRecord(3)];

    expect(await (await createSink({ eventBusName: EventBusArn })).deliver(byArn)).toEqual({
      delivered: 2,
      failed: [],
    });
    expect(await (await createSink({ eventBusName: "audit" })).deliver(byName)).toEqual({
      delivered: 1,
      failed: [],
    });

    expect(putRequests.flatMap((request) => request.Entries.map((entry) => entry.EventBusName))).toEqual([
      EventBusArn,
      EventBusArn,
      "audit",
    ]);
    expect(eventIds(await receiveEvents(auditQueue))).toEqual(recordIds([...byArn, ...byName]));
    expect(await receiveEvents(defaultBusQueue)).toEqual([]);
  });

  it("sends EventBridge's CloudTrail envelope as detail, with derived detail-types and resources", async () => {
    const source = "trailrouter.envelope";
    const allQueue = await ruleToQueue({ source: [source] });
    // With format eventbridge the record sits one level down, under detail.detail.
    const signInQueue = await ruleToQueue({
      source: [source],
      detail: { detail: { eventName: ["ConsoleLogin"] } },
    });
    const sink = await createSink({
      source,
      format: "eventbridge",
      detailType: "auto",
      resources: ["resources.ARN", "userIdentity.arn"],
    });
    const createUser = trailRecord(1, {
      eventName: "CreateUser",
      eventSource: "iam.amazonaws.com",
      userIdentity: { type: "IAMUser", arn: "arn:aws:iam::123456789012:user/admin" },
      resources: [
        { ARN: "arn:aws:iam::123456789012:user/bob", type: "AWS::IAM::User" },
        { ARN: "arn:aws:iam::123456789012:user/admin", type: "AWS::IAM::User" },
      ],
    });
    const signIn = trailRecord(2, {
      eventType: "AwsConsoleSignIn",
      eventName: "ConsoleLogin",
      eventSource: "signin.amazonaws.com",
    });

    expect(await sink.deliver([createUser, signIn])).toEqual({ delivered: 2, failed: [] });

    const byEventName = Object.fromEntries(
      (await receiveEvents(allQueue)).map((event) => [(event.detail.detail as TrailRecord).eventName, event]),
    );
    expect(byEventName.CreateUser).toMatchObject({
      source,
      "detail-type": "AWS API Call via CloudTrail",
      time: createUser.eventTime,
      resources: ["arn:aws:iam::123456789012:user/bob", "arn:aws:iam::123456789012:user/admin"],
      detail: toEventBridgeEvent(createUser),
    });
    expect(byEventName.ConsoleLogin).toMatchObject({
      "detail-type": "AWS Console Sign In via CloudTrail",
      resources: [],
      detail: toEventBridgeEvent(signIn),
    });
    expect((await receiveEvents(signInQueue)).map((event) => event.detail.id)).toEqual([
      toEventBridgeEvent(signIn).id,
    ]);
  });

  it("delivers a record with U+FFFE and U+FFFF in a string, parsed back as it was", async () => {
    const source = "trailrouter.characters";
    const queue = await ruleToQueue({ source: [source] });
    const sink = await createSink({ source });
    const record = trailRecord(1, { userAgent: "aws-cli/2.15\ufffe exec-env/\uffff" });

    expect(await sink.deliver([record, trailRecord(2)])).toEqual({ delivered: 2, failed: [] });

    const events = await receiveEvents(queue);
    expect(events.find((event) => event.detail.eventID === record.eventID)?.detail).toEqual(record);
  });

  it("reports a record over the entry limit as RecordTooLarge and delivers the others", async () => {
    const source = "trailrouter.sizes";
    const queue = await ruleToQueue({ source: [source] });
    const sink = await createSink({ source });
    const huge = trailRecord(99, { responseElements: { blob: "x".repeat(300_000) } });
    const records = [trailRecord(1), huge, trailRecord(2)];

    const result = await sink.deliver(records);

    expect(result.delivered).toBe(2);
    expect(result.failed.map((failure) => failure.record)).toEqual([huge]);
    const error = result.failed[0]?.error as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      code: "RecordTooLarge",
      context: { sink: "bus", pipeline: "test", eventID: huge.eventID, limit: 262_144 },
    });
    expect(error.context.bytes).toBeGreaterThan(300_000);
    expect(result.failed[0]?.permanent).toBe(true);
    expect(sink.maxRecordBytes).toBe(262_144);
    expect(putRequests.flatMap((request) => request.Entries)).toHaveLength(2);
    expect(eventIds(await receiveEvents(queue))).toEqual(recordIds([records[0]!, records[2]!]));
  });

  it("reports every record with the service's code when the bus does not exist, after one request", async () => {
    const sink = await createSink({ eventBusName: "no-such-bus" });
    const records = [trailRecord(1), trailRecord(2), trailRecord(3)];

    const result = await sink.deliver(records);

    expect(putRequests).toHaveLength(1);
    expect(result.delivered).toBe(0);
    expect(result.failed.map((failure) => failure.record)).toEqual(records);
    for (const { error, permanent } of result.failed) {
      // About the sink, not the records: they are kept for redelivery, not dead-lettered.
      expect(permanent).toBe(false);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({
        code: "ResourceNotFoundException",
        context: { sink: "bus", retryable: false, attempts: 1 },
      });
      expect(error.message).toMatch(/no-such-bus does not exist/);
    }
  });
});
