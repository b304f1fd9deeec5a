/**
 * Putting log files larger than fauxqs takes in one request (11 MiB): a multipart upload, as
 * CloudTrail's metadata says (gzip JSON).
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

/** fauxqs takes request bodies up to 11 MiB: larger files go up in parts of this size. */
const PART_BYTES = 8 * 2 ** 20;

/** Puts `body` with a multipart upload, as CloudTrail's metadata says: gzip JSON. */
export async function putInParts(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: "application/json",
      ContentEncoding: "gzip",
    }),
  );
  const parts = [];
  for (let start = 0, part = 1; start < body.length; start += PART_BYTES, part++) {
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: part,
        Body: body.subarray(start, start + PART_BYTES),
      }),
    );
    parts.push({ ETag, PartNumber: part });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}
