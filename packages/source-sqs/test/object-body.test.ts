import { Readable } from "node:stream";
import { ObjectFetchError } from "@trailrouter/core";
import { describe, expect, it } from "vitest";
import { readObjectBody } from "../src/object-body.js";

const context = { messageId: "m-1", bucket: "trail-logs", key: "AWSLogs/x.json.gz" };

/** A body arriving in chunks, as an HTTP response does. */
function chunked(...chunks: string[]): Readable {
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
}

describe("readObjectBody", () => {
  it("copies the chunks into one buffer of the announced length", async () => {
    const body = await readObjectBody(chunked("abc", "", "defgh", "ij"), 10, 1_000, context);
    expect(Buffer.from(body).toString()).toBe("abcdefghij");
    expect(body.byteLength).toBe(10);
    expect(body.buffer.byteLength).toBe(10);
  });

  it("fails a body shorter than announced, never returning part of it", async () => {
    const error = await readObjectBody(chunked("abc", "def"), 10, 1_000, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({ code: "BodyLengthMismatch", stage: "fetch", context });
    expect((error as Error).message).toContain("6 bytes of the 10 announced");
  });

  it("fails a body longer than announced and stops reading it", async () => {
    const stream = chunked("abcdef", "ghij", "klmn");
    const error = await readObjectBody(stream, 8, 1_000, context).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BodyLengthMismatch", context });
    expect(stream.destroyed).toBe(true);
  });

  it("without an announced length, collects the chunks up to maxBytes", async () => {
    const body = await readObjectBody(chunked("abc", "def"), undefined, 6, context);
    expect(Buffer.from(body).toString()).toBe("abcdef");
  });

  it("without an announced length, refuses a body over maxBytes and stops reading it", async () => {
    const stream = chunked("abcd", "efgh", "ijkl");
    const error = await readObjectBody(stream, undefined, 6, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectFetchError);
    expect(error).toMatchObject({ code: "ObjectTooLarge", context: { ...context, maxObjectBytes: 6 } });
    expect(stream.destroyed).toBe(true);
  });

  it("passes on the error of a stream that fails mid-body", async () => {
    const stream = new Readable({
      read() {
        this.push(Buffer.from("abc"));
        this.destroy(Object.assign(new Error("socket hang up"), { name: "ECONNRESET" }));
      },
    });
    await expect(readObjectBody(stream, 10, 1_000, context)).rejects.toThrow("socket hang up");
  });
});
