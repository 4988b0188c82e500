/**
 * The processor tells transient faults from permanent ones (issue 18, reliability): a storage that cannot
 * be reached ends the job in an ERROR with `retryable: true` (the API re-queues it with backoff), a blip of a
 * few seconds is ridden out by the S3 client's own retries (SUCCESS), and a bad video stays a permanent
 * ERROR (no flag), for extractions and transcodes alike. The S3 server is stopped and restarted on the same
 * port and data folder.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTransientStorageError, s3RetryStrategy, S3_MAX_ATTEMPTS } from "../../../ffmpeg-container/src/s3.ts";
import { startS3Server } from "../../../tools/stack/s3-server.ts";
import { classifySourceFailure } from "../../../ffmpeg-container/src/jobs/classify-failure.ts";
import { STORAGE_UNREADABLE_MESSAGE } from "../../../ffmpeg-container/src/ffmpeg/stderr.ts";
import { JobError } from "../../../ffmpeg-container/src/runner/errors.ts";
import type { JobContext } from "../../../ffmpeg-container/src/runner/job-kind.ts";
import { createStorage } from "../../../ffmpeg-container/src/s3.ts";
import { createLogger } from "../../../runtime/log.ts";
import { type Harness, jobCredentials, jobMessage, postJob, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";
import { postTranscode, transcodeJob } from "../transcode/support.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A stopped S3 server back on the same port and data folder; the harness closes the new one at the end. */
async function restartS3(): Promise<void> {
  h.s3Server = await startS3Server({ directory: path.join(h.dataDir, "s3"), port: h.s3Server.port });
}

describe("storage errors: transient or permanent", () => {
  it("5xx, 429, timeouts and network errors are transient; 4xx answers are not", () => {
    const http = (status: number) => Object.assign(new Error("x"), { $metadata: { httpStatusCode: status } });
    expect([500, 502, 503, 429].map((s) => isTransientStorageError(http(s)))).toEqual([true, true, true, true]);
    expect([400, 403, 404, 412].map((s) => isTransientStorageError(http(s)))).toEqual([false, false, false, false]);
    expect(isTransientStorageError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isTransientStorageError(Object.assign(new Error("t"), { name: "TimeoutError" }))).toBe(true);
    expect(isTransientStorageError(new Error("wrapped", { cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) }))).toBe(true);
    expect(isTransientStorageError(new Error("a bug"))).toBe(false);
  });

  it("the client's retry strategy retries server and network faults with growing delays, never client errors", async () => {
    const strategy = s3RetryStrategy();
    let token = await strategy.acquireInitialRetryToken("s3");
    const delays: number[] = [];
    for (;;) {
      try {
        token = await strategy.refreshRetryTokenForRetry(token, { errorType: "TRANSIENT" });
        delays.push(token.getRetryDelay());
      } catch {
        break;
      }
    }
    expect(delays).toHaveLength(S3_MAX_ATTEMPTS - 1);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
    expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThan(7_000);
    await expect(strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken("s3"), { errorType: "CLIENT_ERROR" })).rejects.toThrow();
  });
});

describe("jobs meeting a storage outage", () => {
  it("storage down for the whole job: ERROR with retryable: true", async () => {
    await uploadSource(h, "outage", testVideo("hardware-example.mp4"));
    await h.s3Server.close();
    try {
      const res = await postJob(h.url, jobMessage("outage", { mode: "keyframes" }));
      const last = res.events.at(-1)!;
      expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
      if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
      expect(last.payload.retryable).toBe(true);
      expect(last.payload.errorMessage).toMatch(/storage/i);
    } finally {
      await restartS3();
    }
  }, 60_000);

  it("a blip of 2 s at the job's start: the client's retries ride it out, SUCCESS", async () => {
    await uploadSource(h, "blip", testVideo("hardware-example.mp4"));
    await h.s3Server.close();
    const job = postJob(h.url, jobMessage("blip", { mode: "keyframes" }));
    await new Promise((r) => setTimeout(r, 2_000));
    await restartS3();
    const res = await job;
    expect(res.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
  }, 60_000);

  it("a file that is not a video, storage up: a permanent ERROR (no retryable flag)", async () => {
    await uploadSource(h, "not-video", path.join(import.meta.dirname, "transient-faults.test.ts"));
    const res = await postJob(h.url, jobMessage("not-video", { mode: "keyframes" }));
    const last = res.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
    expect(last.payload.retryable).toBeUndefined();
    expect(last.payload.errorMessage).toMatch(/not a video|text file/);
  });
});

describe("classifying a failed job's error (every kind that reads an uploaded source)", () => {
  const context = (): JobContext => ({
    jobId: "classify#1",
    workDir: h.tmpDir,
    signal: new AbortController().signal,
    log: createLogger({ test: "classify" }, { sink: () => undefined }),
    progress: () => undefined,
    config: h.config,
    storage: createStorage(h.config.s3, jobCredentials(jobMessage("classify", { mode: "keyframes" }))!),
    bins: undefined as never,
  });
  const source = { userId: USER_ID, videoId: "classify" };
  const badVideo = new JobError("The file is not a video we can read.", "moov atom not found");

  it("storage up: a bad video stays permanent; ffmpeg's 'could not read from storage' is retryable", async () => {
    await uploadSource(h, "classify", testVideo("hardware-example.mp4"));
    expect(await classifySourceFailure(badVideo, source, context())).toBe(badVideo);
    const unreadable = (await classifySourceFailure(new JobError(STORAGE_UNREADABLE_MESSAGE, "Connection refused"), source, context())) as JobError;
    expect(unreadable.retryable).toBe(true);
  });

  it("storage down when the job failed: the failure is blamed on it, retryable", async () => {
    await h.s3Server.close();
    try {
      const classified = (await classifySourceFailure(badVideo, source, context())) as JobError;
      expect(classified.retryable).toBe(true);
      expect(classified.message).toBe(STORAGE_UNREADABLE_MESSAGE);
    } finally {
      await restartS3();
    }
  }, 60_000);

  it("a transcode meeting a storage outage ends in a retryable ERROR", async () => {
    await uploadSource(h, "t-outage", testVideo("hardware-example.mp4"));
    await h.s3Server.close();
    try {
      const res = await postTranscode(h, transcodeJob("t-outage", { renditions: [{ format: "mp4", height: 240 }] }));
      const last = res.events.at(-1)!;
      expect(last.type).toBe("MSG_TRANSCODE_ERROR");
      if (last.type !== "MSG_TRANSCODE_ERROR") throw new Error("unreachable");
      expect(last.payload.retryable).toBe(true);
    } finally {
      await restartS3();
    }
  }, 60_000);
});
