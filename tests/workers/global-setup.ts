/**
 * Vitest global setup (Node side): starts the real, SigV4-verifying S3 server (tools/stack/s3-server.ts)
 * and the stand-in processor on free loopback ports (with a random PROCESSOR_SHARED_SECRET), hands their URLs to the Worker config through
 * `provide` (read with `inject` in vitest.config.mts), and stops both at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startS3Server } from "../../tools/stack/s3-server.ts";
import { LOCAL } from "../../tools/stack/local-config.ts";
import { DEFAULT_LIMITS } from "../../ffmpeg-container/src/config.ts";
import { createProcessorServer } from "../../ffmpeg-container/src/runner/server.ts";
import { createLogger } from "../../runtime/log.ts";
import { startStandInProcessor } from "./stand-in-processor.ts";
import { startWebhookReceiver } from "./support/webhook-receiver.ts";

export default async function setup(project: TestProject) {
  const directory = mkdtempSync(path.join(os.tmpdir(), "vidsnap-workers-s3-"));
  const s3 = await startS3Server({ directory, port: 0 });
  // Random per run, like the local stack's: the Worker gets it as PROCESSOR_SHARED_SECRET (vitest.config.mts).
  const sharedSecret = randomBytes(32).toString("hex");
  // The real processor renders images on demand (real ffmpeg); the stand-in forwards `POST /renders` to it.
  const renderTmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-workers-renders-"));
  const renderer = createProcessorServer(
    {
      host: "127.0.0.1",
      port: 0,
      // No storage key: each render brings the credentials the Worker minted (schema/storage-credentials.ts).
      s3: { endpoint: s3.endpoint, region: LOCAL.s3Region, forcePathStyle: true },
      videosBucket: LOCAL.videosBucket,
      imagesBucket: LOCAL.imagesBucket,
      sharedSecret,
      maxConcurrentJobs: 2,
      maxConcurrentRenders: 2,
      jobTimeoutSeconds: 60,
      ...DEFAULT_LIMITS,
      tmpDir: renderTmp,
      progressIntervalMs: 2000,
    },
    { log: createLogger({}, { minLevel: "error" }) },
  );
  const rendersUrl = await renderer.listen();
  const processor = await startStandInProcessor({ s3Endpoint: s3.endpoint, sharedSecret, rendersUrl });
  project.provide("s3Endpoint", s3.endpoint);
  project.provide("processorSharedSecret", sharedSecret);
  project.provide("processorUrl", processor.url);
  // Webhook receiver (tests/workers/webhooks.test.ts): records requests, answers planned statuses.
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiverUrl", receiver.url);
  return async () => {
    await receiver.close();
    await processor.close();
    await renderer.close({ abortRunning: true });
    rmSync(renderTmp, { recursive: true, force: true });
    await s3.close();
    rmSync(directory, { recursive: true, force: true });
  };
}
