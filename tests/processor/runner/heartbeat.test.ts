/**
 * Heartbeat (HEARTBEAT_SECONDS): while a job runs, the NDJSON stream is never silent for longer than the
 * heartbeat (plus a margin for event-loop lag), whatever the job is doing — sequential decoding between
 * distant targets, seeks, a slow final upload — and nothing follows the single SUCCESS/ERROR line.
 * Regular progress stays at the contract's 2 s, so every gap below 2 s here is the heartbeat's doing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { S3Client } from "@aws-sdk/client-s3";
import { ExtractSnapshotEvent } from "../../../schema/messages/extract-snapshot.ts";
import { loadProcessorConfig } from "../../../ffmpeg-container/src/config.ts";
import { createProcessorServer, type ProcessorServer } from "../../../ffmpeg-container/src/runner/server.ts";
import type { S3ClientFactory } from "../../../ffmpeg-container/src/s3.ts";
import { silentLogger } from "../../../runtime/log.ts";
import { type Harness, hookedS3Clients, jobMessage, signedJobInit, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";

const HEARTBEAT_SECONDS = 0.2;
/** Allowed lag over the heartbeat (timers, ffmpeg and the S3 server share the machine with other test files). */
const MARGIN_MS = 800;
const MAX_GAP_MS = HEARTBEAT_SECONDS * 1000 + MARGIN_MS;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ heartbeatSeconds: HEARTBEAT_SECONDS, progressIntervalMs: 2000 });
});
afterAll(async () => {
  await h?.close();
});

interface TimedLine {
  at: number;
  event: ExtractSnapshotEvent;
}

/**
 * POSTs a job and records when each NDJSON line arrived; every line must be a valid envelope.
 * @returns the lines, the time the response headers arrived and the time the body ended
 */
async function timedJob(baseUrl: string, videoId: string, options: Parameters<typeof jobMessage>[1]) {
  const res = await fetch(`${baseUrl}/jobs`, await signedJobInit(jobMessage(videoId, options)));
  expect(res.status).toBe(200);
  const startedAt = Date.now();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const lines: TimedLine[] = [];
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const at = Date.now();
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line) lines.push({ at, event: ExtractSnapshotEvent.parse(JSON.parse(line)) });
    }
  }
  const endedAt = Date.now();
  expect(buf).toBe("");
  return { lines, startedAt, endedAt };
}

/**
 * The heartbeat contract on one recorded stream.
 * @returns the heartbeats: PROCESSING lines after the first (PROGRESS lines carry the news)
 */
function checkStream(
  { lines, startedAt, endedAt }: Awaited<ReturnType<typeof timedJob>>,
  videoId: string,
  terminal: ExtractSnapshotEvent["type"],
): number {
  expect(lines.length).toBeGreaterThan(1);
  for (const { event } of lines) {
    expect(event.sender).toBe("VIDEO_IMAGE_PROCESSOR_SERVICE");
    expect(event.target).toBe("VIDEO_API_SERVICE");
    expect(event.payload).toMatchObject({ videoId, userId: USER_ID, attempt: 1 });
  }
  // Exactly one terminal event, and it is the last line; the body ends right after it.
  const terminals = lines.filter(
    (l) => l.event.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" || l.event.type === "MSG_EXTRACT_SNAPSHOT_ERROR",
  );
  expect(terminals).toHaveLength(1);
  expect(lines.at(-1)!.event.type, JSON.stringify(lines.at(-1)!.event)).toBe(terminal);
  expect(endedAt - lines.at(-1)!.at).toBeLessThan(MAX_GAP_MS);
  // First line: PROCESSING; then heartbeats (bare PROCESSING) and PROGRESS lines, never going down.
  expect(lines[0]!.event.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
  expect(lines[0]!.event.payload).not.toHaveProperty("progress");
  let fraction = 0;
  let images = 0;
  let repeats = 0;
  for (const { event } of lines.slice(1, -1)) {
    if (event.type === "MSG_EXTRACT_SNAPSHOT_PROCESSING") {
      expect(event.payload).not.toHaveProperty("progress");
      repeats++;
      continue;
    }
    if (event.type !== "MSG_EXTRACT_SNAPSHOT_PROGRESS") throw new Error(`unexpected ${event.type} before the end`);
    expect(event.payload.fraction).toBeGreaterThanOrEqual(fraction);
    expect(event.payload.fraction).toBeLessThanOrEqual(1);
    expect(event.payload.imagesSoFar).toBeGreaterThanOrEqual(images);
    ({ fraction, imagesSoFar: images } = event.payload);
  }
  // No silence longer than heartbeat + margin, from the headers to the last line.
  const times = [startedAt, ...lines.map((l) => l.at)];
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(Math.max(...gaps), `gaps ${gaps.join(",")}`).toBeLessThanOrEqual(MAX_GAP_MS);
  return repeats;
}

/** Builds clients whose final uploads (PutObject, CompleteMultipartUpload) each take `delayMs` longer. */
function slowUploadClients(delayMs: number): S3ClientFactory {
  return hookedS3Clients(async (c, send) => {
    if (c.command === "PutObjectCommand" || c.command === "CompleteMultipartUploadCommand") await new Promise((r) => setTimeout(r, delayMs));
    return send();
  });
}

describe("heartbeat", () => {
  it("HEARTBEAT_SECONDS is validated with a 30 s default", () => {
    const base = {
      S3_ENDPOINT: "http://127.0.0.1:9000",
      VIDEOS_BUCKET: "v",
      IMAGES_BUCKET: "i",
      PROCESSOR_SHARED_SECRET: "heartbeat-test-shared-secret-0123456789",
    };
    expect(loadProcessorConfig(base).heartbeatSeconds).toBe(30);
    expect(loadProcessorConfig({ ...base, HEARTBEAT_SECONDS: "" }).heartbeatSeconds).toBe(30);
    expect(loadProcessorConfig({ ...base, HEARTBEAT_SECONDS: "0.5" }).heartbeatSeconds).toBe(0.5);
    expect(() => loadProcessorConfig({ ...base, HEARTBEAT_SECONDS: "0" })).toThrow(/HEARTBEAT_SECONDS/);
    expect(() => loadProcessorConfig({ ...base, HEARTBEAT_SECONDS: "soon" })).toThrow(/HEARTBEAT_SECONDS/);
  });

  it.each([
    ["franck.mp4", 50], // 200 s, 5 images: long decodes between distant targets
    ["vtest.avi", 20], // 79.5 s, 4 images
  ] as const)("sequential interval decode of %s every %d s is never silent", async (name, n) => {
    const p = await h.extraProcessor({ intervalStrategy: "sequential" });
    const videoId = `hb-seq-${name.replace(/\W/g, "-")}`;
    await uploadSource(h, videoId, testVideo(name));
    const rec = await timedJob(p.url, videoId, { mode: "interval", intervalSeconds: n });
    const repeats = checkStream(rec, videoId, "MSG_EXTRACT_SNAPSHOT_SUCCESS");
    // The job lasted several heartbeats, so heartbeats were needed and sent.
    if (rec.endedAt - rec.startedAt > 4 * MAX_GAP_MS) expect(repeats).toBeGreaterThan(0);
    expect(rec.lines.length).toBeGreaterThanOrEqual(Math.floor((rec.endedAt - rec.startedAt) / MAX_GAP_MS));
  });

  it("the seek strategy is never silent", async () => {
    const p = await h.extraProcessor({ intervalStrategy: "seek" });
    const videoId = "hb-seek";
    await uploadSource(h, videoId, testVideo("franck.mp4"));
    const rec = await timedJob(p.url, videoId, { mode: "interval", intervalSeconds: 20 });
    checkStream(rec, videoId, "MSG_EXTRACT_SNAPSHOT_SUCCESS");
  });

  describe("with a slow store", () => {
    let slow: S3ClientFactory;
    let processor: ProcessorServer;
    let url: string;
    beforeAll(async () => {
      slow = slowUploadClients(1500);
      processor = createProcessorServer({ ...h.config, jobTimeoutSeconds: 60 }, { s3Client: slow, log: silentLogger });
      url = await processor.listen();
    });
    afterAll(async () => {
      await processor?.close({ abortRunning: true });
    });

    it("heartbeats cover the final upload, and stop at SUCCESS", async () => {
      const videoId = "hb-slow-upload";
      await uploadSource(h, videoId, testVideo("tree.avi"));
      const rec = await timedJob(url, videoId, { mode: "interval", intervalSeconds: 5 });
      const repeats = checkStream(rec, videoId, "MSG_EXTRACT_SNAPSHOT_SUCCESS");
      // Two delayed uploads (archive, manifest) of 1.5 s each after the last image: several heartbeats.
      expect(repeats).toBeGreaterThanOrEqual(5);
      expect(rec.lines.at(-2)!.event.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
      const progress = rec.lines.flatMap((l) => (l.event.type === "MSG_EXTRACT_SNAPSHOT_PROGRESS" ? [l.event.payload] : []));
      expect(progress.at(-1)).toMatchObject({ imagesSoFar: 6 });
      expect(processor.runningJobs()).toBe(0);
    });

    it("heartbeats stop at the ERROR of a timeout", async () => {
      const timed = createProcessorServer({ ...h.config, jobTimeoutSeconds: 1 }, { s3Client: slow, log: silentLogger });
      const timedUrl = await timed.listen();
      try {
        const videoId = "hb-timeout";
        await uploadSource(h, videoId, testVideo("tree.avi"));
        const rec = await timedJob(timedUrl, videoId, { mode: "interval", intervalSeconds: 5 });
        checkStream(rec, videoId, "MSG_EXTRACT_SNAPSHOT_ERROR");
        const last = rec.lines.at(-1)!.event;
        if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
        expect(last.payload.errorMessage).toMatch(/longer than the limit of 1 seconds/);
      } finally {
        await timed.close({ abortRunning: true });
      }
    });
  });
});
