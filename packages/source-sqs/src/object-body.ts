import { type ErrorContext, ObjectFetchError } from "@trailrouter/core";

/**
 * Reads an S3 object's body into one buffer. With the length S3 announced (Content-Length), the
 * chunks are copied into a buffer of that size as they arrive: the body is held once. (Collecting
 * the chunks and joining them at the end, as the SDK's transformToByteArray does, holds it twice
 * for a moment: for eight large objects fetched at once, that second copy was the largest thing
 * in memory.) Without a length, the chunks are collected, and the read stops past `maxBytes`.
 */
export async function readObjectBody(
  chunks: AsyncIterable<Uint8Array>,
  length: number | undefined,
  maxBytes: number,
  context: ErrorContext,
): Promise<Uint8Array> {
  if (length === undefined) return collectUpTo(chunks, maxBytes, context);
  const body = new Uint8Array(length);
  let received = 0;
  for await (const chunk of chunks) {
    if (received + chunk.byteLength > length) {
      throw lengthMismatch(`more than the ${length} bytes announced`, context);
    }
    body.set(chunk, received);
    received += chunk.byteLength;
  }
  if (received !== length) {
    throw lengthMismatch(`${received} bytes of the ${length} announced`, context);
  }
  return body;
}

async function collectUpTo(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
  context: ErrorContext,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of chunks) {
    received += chunk.byteLength;
    if (received > maxBytes) {
      throw new ObjectFetchError(
        "ObjectTooLarge",
        `s3://${context.bucket}/${context.key} has no announced length and is over maxObjectBytes (${maxBytes})`,
        { ...context, maxObjectBytes: maxBytes },
      );
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, received);
}

function lengthMismatch(what: string, context: ErrorContext): ObjectFetchError {
  return new ObjectFetchError(
    "BodyLengthMismatch",
    `s3://${context.bucket}/${context.key}: the body had ${what}`,
    context,
  );
}
