/**
 * The extract consumer and the processor's Durable Object (ProcessorContainer, its container runtime stood
 * in by the stand-in processor at PROCESSOR_URL): dispatch outcomes (200 / 409 / 400 / 401 / 503 / network
 * errors), backoff and the last-delivery ERROR; the object's relay of the NDJSON events to the events queue
 * (observed in D1 once the Worker consumed them), lost relays recovered at once, and jobs outlasting the
 * consumer's time limit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import {
  consumeExtract,
  EXTRACT_MAX_DELIVERIES,
  PROCESSOR_UNAVAILABLE,
  retryDelaySeconds,
} from "../../../edge-api/src/queues/extract-consumer.ts";
import { LEASE_EXPIRED_ERROR_MESSAGE } from "../../../edge-api/src/lifecycle/leases.ts";
import { MAX_TRANSIENT_RETRIES } from "../../../edge-api/src/lifecycle/record-event.ts";
import { dispatchCandidates, MAX_DISPATCH_TRIES } from "../../../edge-api/src/processor/index.ts";
import {
  db,
  emailsFor,
  eventually,
  extractJobMessage,
  insertVideo,
  processorInstances,
  processorJobs,
  processorRefusedJobs,
  runQueue,
  setScenario,
  signUp,
  testEnv,
  recordingMessage,
  testDeps,
} from "../support/env.ts";


let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("extract");
});

const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;

const job = (videoId: string, attempt = 1) => extractJobMessage({ videoId, userId: owner.userId, attempt });

const statusOf = async (id: string, status: string) => {
  const r = await row(id);
  return r.status === status ? r : undefined;
};

describe("extract consumer", () => {
  it("posts the job and relays the streamed events until SUCCESS (acked)", async () => {
    const id = await insertVideo(owner.userId);
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await processorJobs(id)).toEqual([job(id)]);
    const done = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_SUCCESS"));
    expect(done).toMatchObject({ attempt: 1, imageCount: 2, progress: 1 });
  });

  it("skips lines that are not JSON, not events, or of another job", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "noisy");
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_SUCCESS"));
  });

  it("relays a processor ERROR (bad video) and acks", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "error");
    expect((await runQueue("vidsnap-extract", [job(id)])).explicitAcks).toHaveLength(1);
    const failed = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_ERROR"));
    expect(failed.errorMessage).toBe("The file is not a video we can read.");
  });

  it("409 (already running there) → acked, nothing changes", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "duplicate");
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
  });

  it("503 → retried with exponential backoff (10·2^(n−1) s, capped at 300 s)", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "busy");
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String) }]);
    // getQueueResult does not report retry delays: hand the consumer a message that records them.
    for (const attempts of [1, 2, 3]) {
      const message = recordingMessage(job(id), attempts);
      await consumeExtract(message, testDeps());
      expect(message.outcome).toEqual({ retry: { delaySeconds: 10 * 2 ** (attempts - 1) } });
    }
    expect(retryDelaySeconds(1)).toBe(10);
    expect(retryDelaySeconds(6)).toBe(300);
    expect(retryDelaySeconds(20)).toBe(300);
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
  });

  it("503 on the last delivery → a retryable ERROR: the job is re-queued with backoff, no email", async () => {
    expect(EXTRACT_MAX_DELIVERIES).toBe(4); // max_retries = 3 in wrangler.toml
    const id = await insertVideo(owner.userId);
    await setScenario(id, "busy");
    const result = await runQueue("vidsnap-extract", [job(id)], { attempts: EXTRACT_MAX_DELIVERIES });
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    const requeued = await eventually(async () => {
      const r = await row(id);
      return r.attempt === 2 ? r : undefined;
    });
    expect(requeued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", recoveries: 1, errorMessage: null });
    expect(await emailsFor(id)).toEqual([]);
  });

  it("503 on the last delivery with the retry budget used up → ERROR 'processor unavailable', acked, error email", async () => {
    const id = await insertVideo(owner.userId, { recoveries: MAX_TRANSIENT_RETRIES });
    await setScenario(id, "busy");
    const result = await runQueue("vidsnap-extract", [job(id)], { attempts: EXTRACT_MAX_DELIVERIES });
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_ERROR"));
    expect(failed.errorMessage).toBe(PROCESSOR_UNAVAILABLE);
    expect(failed.errorDescription).toContain("HTTP 503");
    const email = await eventually(async () => (await emailsFor(id))[0]);
    expect(email.type).toBe("MSG_SEND_SNAPSHOT_EXTRACTION_ERROR");
  });

  it("a stream that ends without SUCCESS/ERROR → acked; the object reports a retryable ERROR: re-queued with backoff, no email", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "truncated");
    const message = recordingMessage(job(id), 1);
    await consumeExtract(message, testDeps());
    expect(message.outcome).toBe("ack");
    const requeued = await eventually(async () => {
      const r = await row(id);
      return r.attempt === 2 ? r : undefined;
    });
    expect(requeued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", recoveries: 1, errorMessage: null });
    expect(await emailsFor(id)).toEqual([]);
  });

  it("a lost stream with the retry budget used up → ERROR 'Processing stopped responding' and the error email", async () => {
    const id = await insertVideo(owner.userId, { recoveries: MAX_TRANSIENT_RETRIES });
    await setScenario(id, "truncated");
    await consumeExtract(recordingMessage(job(id), 1), testDeps());
    const failed = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_ERROR"));
    expect(failed).toMatchObject({ attempt: 1, errorMessage: LEASE_EXPIRED_ERROR_MESSAGE });
    expect(failed.errorDescription).toContain("without a final event");
    const email = await eventually(async () => (await emailsFor(id))[0]);
    expect(email.type).toBe("MSG_SEND_SNAPSHOT_EXTRACTION_ERROR");
  });

  it("a job longer than the consumer's time limit still finishes: the consumer only dispatches", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "slow"); // about 3 s of events before SUCCESS
    const deps = testDeps();
    const message = recordingMessage(job(id), 1);
    const started = Date.now();
    await consumeExtract(message, { ...deps, config: { ...deps.config, consumerTimeLimitSeconds: 1 } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(message.outcome).toBe("ack");
    expect((await row(id)).status).not.toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    const done = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_SUCCESS"), 10_000);
    expect(done).toMatchObject({ attempt: 1, recoveries: 0, imageCount: 2 });
    expect(done.completedAt!.getTime() - started).toBeGreaterThan(2500);
  });

  it("400 (processor refuses the envelope) → ERROR sent, acked", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "bad-request");
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_ERROR"));
    expect(failed.errorMessage).toBe("The image processor refused the job");
  });

  it("a processor that closes the connection without answering → retried", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "hangup");
    const message = recordingMessage(job(id), 1);
    await consumeExtract(message, testDeps());
    expect(message.outcome).toEqual({ retry: { delaySeconds: 10 } });
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
  });

  it("job requests are signed with PROCESSOR_SHARED_SECRET (the stand-in, like the processor, refuses others)", async () => {
    const id = await insertVideo(owner.userId);
    await runQueue("vidsnap-extract", [job(id)]);
    await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_SUCCESS"));
    expect(await processorJobs(id)).toHaveLength(1);
    expect(await processorRefusedJobs(id)).toBe(0);
  });

  it("401 (the processor refuses the signature) → retried, never failed as a bad video", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "unauthorized");
    const message = recordingMessage(job(id), 2);
    await consumeExtract(message, testDeps());
    expect(message.outcome).toEqual({ retry: { delaySeconds: 20 } });
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
  });

  it("a busy home instance: the next instance takes the job at once (no queue backoff), and a redelivery goes there too", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "busy-first");
    const first = await runQueue("vidsnap-extract", [job(id)]);
    expect(first.retryMessages).toEqual([]);
    expect(first.explicitAcks).toHaveLength(1);
    const [home, taker] = (await processorInstances(id)).jobs;
    expect(home).toMatch(/^processor-\d$/);
    expect(taker).toMatch(/^processor-\d$/);
    expect(taker).not.toBe(home);
    // The home instance is free now: without its memory a redelivery would start the attempt a second time there.
    await runQueue("vidsnap-extract", [job(id)], { attempts: 2 });
    expect((await processorInstances(id)).jobs).toEqual([home, taker, taker]);
    await eventually(() => statusOf(id, "VIDEO_IMAGE_EXTRACTION_SUCCESS"));
  });

  it("every instance tried busy → 3 instances asked, then the home holds the job for a slot, then the queue's backoff", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "busy");
    const result = await runQueue("vidsnap-extract", [job(id)]);
    expect(result.retryMessages).toHaveLength(1);
    const { jobs: asked, slotWaits } = await processorInstances(id);
    expect(asked).toHaveLength(MAX_DISPATCH_TRIES + 1);
    expect(new Set(asked).size).toBe(MAX_DISPATCH_TRIES);
    // Only the last request may wait for a slot, and on the first instance asked.
    expect(slotWaits).toEqual(["", "", "", "20"]);
    expect(asked[MAX_DISPATCH_TRIES]).toBe(asked[0]);
  });

  it("dispatch candidates: home (or the remembered instance) first, then the next ones, wrapping, never twice", () => {
    expect(dispatchCandidates(3, 5)).toEqual([3, 4, 0]);
    expect(dispatchCandidates(3, 5, 4)).toEqual([4, 3, 0]);
    expect(dispatchCandidates(0, 1)).toEqual([0]);
    expect(dispatchCandidates(1, 2, 0)).toEqual([0, 1]);
    // Remembered before PROCESSOR_INSTANCES was lowered: that instance is gone, the home goes first.
    expect(dispatchCandidates(1, 3, 4)).toEqual([1, 2, 0]);
  });

  it("invalid envelopes are acked without calling the processor", async () => {
    const id = await insertVideo(owner.userId);
    const bad = { ...job(id), sender: "EMAIL_SERVICE" };
    const result = await runQueue("vidsnap-extract", [bad, { ...job(id), payload: { videoId: id } }]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(await processorJobs(id)).toEqual([]);
  });

  it("a stale job (record at another attempt, finished, or deleted) is acked without calling the processor", async () => {
    const newer = await insertVideo(owner.userId, { attempt: 2 });
    const finished = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS" });
    const missing = crypto.randomUUID();
    const result = await runQueue("vidsnap-extract", [job(newer, 1), job(finished, 1), job(missing, 1)]);
    expect(result.explicitAcks).toHaveLength(3);
    for (const id of [newer, finished, missing]) expect(await processorJobs(id)).toEqual([]);
  });
});
