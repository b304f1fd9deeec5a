/**
 * A new plugin author following docs/PLUGINS.md, from the scaffold to a run on a local emulator:
 * `trailrouter new-plugin sink webhook`, its generated test, the doc's webhook source and test
 * written over it, a build, then a copy of the CMDB example with its `users` sink swapped to the
 * webhook (loaded through `plugins:`) run with `trailrouter run --once` on fauxqs, its records
 * POSTed to a server of the test's on 127.0.0.1; and the plugin in `trailrouter plugins` and
 * `trailrouter schema`. Every command is the built CLI in a child process, as the author runs it.
 */

import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { TrailRecord } from "@trailrouter/core";
import {
  cloudTrailKey,
  createTrailWorld,
  deliverLogFiles,
  drainQueue,
  generateTraffic,
  type LocalAws,
  type LogFile,
  queueDepth,
  startLocalAws,
} from "@trailrouter/local-aws";
import { trailRecord } from "@trailrouter/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CMDB_PIPELINE_FILE } from "../src/commands/demo.js";
import { BIN, docFiles, linkWorkspace, run, tempDir, trailrouter } from "./plugin-package.js";

const ACCOUNT = "111122223333";
const INSTANCE_EVENTS = new Set(["RunInstances", "ModifyInstanceAttribute", "TerminateInstances"]);
const USER_EVENTS = new Set(["CreateUser", "DeleteUser"]);

/** The CMDB example, loading the plugin and with its `users` sink a webhook. */
function withWebhook(cmdb: string): string {
  const usersSink = `      users:
        type: sqs
        queueUrl: \${USERS_QUEUE_URL:?set USERS_QUEUE_URL to the security team's queue}
`;
  expect(cmdb).toContain(usersSink);
  expect(cmdb).toContain("\npipelines:\n");
  return cmdb
    .replace("\npipelines:\n", "\nplugins: [./trailrouter-sink-webhook/dist/index.js]\n\npipelines:\n")
    .replace(
      usersSink,
      `      users:
        type: webhook
        url: \${WEBHOOK_URL}
        batchSize: 25
`,
    );
}

describe("a webhook sink plugin, written the way docs/PLUGINS.md shows", () => {
  let aws: LocalAws;
  let server: Server;
  let webhookUrl = "";
  const posted: TrailRecord[][] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        posted.push((JSON.parse(body) as { records: TrailRecord[] }).records);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cloudtrail`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await aws?.stop();
  });

  it("is scaffolded, tested, built, routed to by trailrouter run --once, and documented", async () => {
    const started = Date.now();
    const work = await tempDir("plugin-author");
    const dir = path.join(work, "trailrouter-sink-webhook");

    // 1. The scaffold, and its generated test: it passes as generated.
    const scaffold = await trailrouter(["new-plugin", "sink", "webhook"], work);
    expect(scaffold.code, scaffold.stderr).toBe(0);
    await linkWorkspace(dir); // what `npm install` would give it
    const generated = await run(BIN.vitest, ["run"], dir);
    expect(generated.code, generated.stdout + generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/test\/webhook\.test\.ts/);

    // 2. The sink the doc shows, and its test, over the generated ones; then the build.
    const doc = await docFiles();
    for (const file of ["src/index.ts", "test/webhook.test.ts"]) {
      await writeFile(path.join(dir, file), doc.get(file)!.text);
    }
    const tested = await run(BIN.vitest, ["run"], dir);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/Tests\s+5 passed/);
    const build = await run(BIN.tsc, ["-p", "tsconfig.build.json"], dir);
    expect(build.stdout + build.stderr).toBe("");

    // 3. CloudTrail's delivery on the emulator: log files in the bucket, notifications in the queue.
    const world = await createTrailWorld(aws, {
      bucket: "author-trail",
      topicName: "AuthorTrail",
      queueName: "AuthorTrail",
      sinkQueues: ["AuthorInstances"],
    });
    const files: LogFile[] = [0, 1, 2].map((i) => {
      const region = i === 1 ? "eu-west-1" : "us-east-1";
      const time = Date.UTC(2026, 10, 26, 12, i * 5);
      return {
        key: cloudTrailKey({ accountId: ACCOUNT, region, time, kind: "log" }),
        records: [
          ...generateTraffic({
            seed: 400 + i,
            count: 300,
            accountIds: [ACCOUNT],
            regions: [region],
            start: time,
            sampleShare: 0.3,
          }),
          // And users created and deleted, from the testing kit: more than one request's worth.
          ...Array.from({ length: 20 }, (_, n) =>
            trailRecord({
              eventName: n % 2 === 0 ? "CreateUser" : "DeleteUser",
              awsRegion: region,
              eventTime: new Date(time + n * 1000).toISOString(),
            }),
          ),
        ],
      };
    });
    await deliverLogFiles(aws, world, files, { keysPerNotification: 2 });
    const records = files.flatMap((f) => f.records);
    const expectedUsers = records.filter((r) => USER_EVENTS.has(r.eventName ?? ""));
    const expectedInstances = records.filter((r) => INSTANCE_EVENTS.has(r.eventName ?? ""));
    expect(expectedUsers.length).toBeGreaterThan(0);
    expect(expectedInstances.length).toBeGreaterThan(0);

    // 4. The CMDB example, its users sink swapped to the webhook, run once.
    const pipeline = path.join(work, "pipeline.yaml");
    await writeFile(pipeline, withWebhook(await readFile(CMDB_PIPELINE_FILE, "utf8")));
    const env = {
      AWS_ENDPOINT_URL: aws.endpoint,
      TRAIL_QUEUE_URL: world.queueUrl,
      INSTANCES_QUEUE_URL: world.sinkQueueUrls.AuthorInstances!,
      WEBHOOK_URL: webhookUrl,
      LOG_LEVEL: "warn",
    };
    const runOnce = await trailrouter(["run", "--config", pipeline, "--once"], work, env);
    expect(runOnce.stderr).toBe("");
    expect(runOnce.code).toBe(0);
    expect(runOnce.stdout).toMatch(/envelopes\s*│\s*2 done, 0 given back/);
    // The plugin's own counter, in the summary: one request per batch, each answered 204.
    expect(runOnce.stdout).toMatch(new RegExp(`webhook requests\\s*│\\s*204 ${posted.length}\\s`));

    // Exactly the routed records reached the server, each once and whole; the queue is empty.
    const received = posted.flat();
    expect(received.map((r) => r.eventID).sort()).toEqual(expectedUsers.map((r) => r.eventID).sort());
    const sent = new Map(records.map((r) => [r.eventID, r]));
    for (const r of received) expect(r).toEqual(JSON.parse(JSON.stringify(sent.get(r.eventID))));
    expect(posted.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...posted.map((batch) => batch.length))).toBeLessThanOrEqual(25);
    const instances = (await drainQueue(aws, world.sinkQueueUrls.AuthorInstances!)).map(
      (m) => (m.body as TrailRecord).eventID,
    );
    expect(instances.sort()).toEqual(expectedInstances.map((r) => r.eventID).sort());
    expect(await queueDepth(aws, world.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    // 5. The plugin's options in the reference and the editor schema of that file.
    const plugins = await trailrouter(["plugins", "--config", pipeline], work, env);
    expect(plugins.code, plugins.stderr).toBe(0);
    expect(plugins.stdout).toContain("### sink `webhook`\n\nPOST each batch of records as JSON to a URL.");
    expect(plugins.stdout).toMatch(
      /\| `url` \(required\) \| string \(uri\) \| {2}\| Where each batch is POSTed/,
    );
    expect(plugins.stdout).toMatch(/\| `batchSize` \| integer 1–1000 \| `100` \| Records per request \|/);
    const schema = await trailrouter(["schema", "--config", pipeline], work, env);
    expect(schema.code, schema.stderr).toBe(0);
    const text = schema.stdout;
    expect(JSON.parse(text)).toBeTypeOf("object");
    expect(text).toContain('"const": "webhook"');
    expect(text).toContain('"description": "POST each batch of records as JSON to a URL"');

    // The whole walk, emulator traffic included, in well under the test's timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
