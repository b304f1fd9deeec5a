import { queueIdentity, sameQueue } from "@trailrouter/source-sqs";
import { describe, expect, it } from "vitest";

describe("queueIdentity", () => {
  it("reads the region from every AWS spelling of a queue's URL", () => {
    const trail = { location: "eu-west-1", accountId: "111122223333", queueName: "trail" };
    expect(queueIdentity("https://sqs.eu-west-1.amazonaws.com/111122223333/trail")).toEqual(trail);
    expect(queueIdentity("https://eu-west-1.queue.amazonaws.com/111122223333/trail")).toEqual(trail);
    expect(queueIdentity("https://SQS.EU-WEST-1.AMAZONAWS.COM/111122223333/trail/")).toEqual(trail);
    expect(queueIdentity("https://sqs.eu-west-1.amazonaws.com:443/111122223333/trail?x=1")).toEqual(trail);
  });

  it("takes the legacy queue.amazonaws.com for us-east-1", () => {
    expect(queueIdentity("https://queue.amazonaws.com/111122223333/trail")).toEqual({
      location: "us-east-1",
      accountId: "111122223333",
      queueName: "trail",
    });
    expect(
      sameQueue(
        "https://queue.amazonaws.com/111122223333/trail",
        "https://sqs.us-east-1.amazonaws.com/111122223333/trail",
      ),
    ).toBe(true);
  });

  it("takes any other host as host:port, lowercased, and the last two path segments", () => {
    expect(queueIdentity("http://LocalHost:4566/queue/000000000000/trail")).toEqual({
      location: "localhost:4566",
      accountId: "000000000000",
      queueName: "trail",
    });
    expect(
      sameQueue("http://localhost:4566/000000000000/trail", "http://localhost:4567/000000000000/trail"),
    ).toBe(false);
  });

  it("tells queues apart by region, account and case-sensitive name", () => {
    const base = "https://sqs.us-east-1.amazonaws.com/111122223333/trail";
    expect(sameQueue(base, "https://sqs.us-east-2.amazonaws.com/111122223333/trail")).toBe(false);
    expect(sameQueue(base, "https://sqs.us-east-1.amazonaws.com/444455556666/trail")).toBe(false);
    expect(sameQueue(base, "https://sqs.us-east-1.amazonaws.com/111122223333/Trail")).toBe(false);
    expect(sameQueue(base, `${base}/`)).toBe(true);
  });

  it("is undefined for what names no queue", () => {
    expect(queueIdentity("not a url")).toBeUndefined();
    expect(queueIdentity("https://sqs.us-east-1.amazonaws.com/trail")).toBeUndefined();
  });
});
