/**
 * Job leases (docs/architecture.md, "Leases"; edge-api/src/lifecycle/leases.ts): the lease is set
 * when an attempt is queued, renewed by its PROCESSING events and cleared when it ends; the cron re-queues
 * an attempt past its lease as a new attempt (one new MSG_EXTRACT_SNAPSHOT, observed at the stand-in
 * processor through the real extract queue and consumer) at most MAX_JOB_RECOVERIES times, then fails the
 * video with the error email (observed at the email sink). The processor's object aborts an event stream
 * that stays silent for PROCESSOR_IDLE_TIMEOUT_SECONDS and recovers the attempt at once.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { videos } from "../../../schema/db.ts";
import { sourceObjectKey } from "../../../schema/object-keys.ts";
import { createDeps, type Deps } from "../../../edge-api/src/context.ts";
import { loadConfig, type Env } from "../../../edge-api/src/env.ts";
import { createLogger } from "../../../runtime/log.ts";
import worker from "../../../edge-api/src/index.ts";
import { LEASE_EXPIRED_ERROR_MESSAGE, recoverExpiredLeases } from "../../../edge-api/src/lifecycle/leases.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { recordEvent } from "../../../edge-api/src/lifecycle/record-event.ts";
import { S3Storage } from "../../../edge-api/src/storage/s3.ts";
import type { VideoStatus } from "../../../schema/video-status.ts";
import type { ExtractSnapshotErrorMessage } from "../../../schema/messages/index.ts";
import {
  api,
  checkConfig,
  db,
  emailsFor,
  eventually,
  extractJobMessage,
  insertVideo,
  processorDisconnects,
  processorEvent,
  processorJobs,
  runQueue,
  setScenario,
  signUp,
  testEnv,
} from "../support/env.ts";

const config = loadConfig(testEnv);
const deps = (env: Env = testEnv): Deps => createDeps(env, config, createLogger({}, { minLevel: "error" }));

const SECOND = 1000;
const HOUR = 3_600_000;
const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;
/** Gives the queues time to deliver anything that was (wrongly) sent. */
const settle = () => new Promise((r) => setTimeout(r, 500));
const cron = (scheduledTime: number) =>
  worker.scheduled(createScheduledController({ scheduledTime, cron: "*/15 * * * *" }), testEnv, createExecutionContext());

/** A video in `status` whose lease ends at `leaseExpiresAt`. */
async function videoWithLease(
  userId: string,
  fields: { status: VideoStatus; attempt?: number; leaseExpiresAt: Date | null; recoveries?: number; progress?: number },
): Promise<string> {
  const id = await insertVideo(userId, { status: fields.status, attempt: fields.attempt ?? 1 });
  await db
    .update(videos)
    .set({
      leaseExpiresAt: fields.leaseExpiresAt,
      recoveries: fields.recoveries ?? 0,
      progress: fields.progress ?? null,
      processingStartedAt: fields.status === "VIDEO_IMAGE_EXTRACTION_PROCESSING" ? new Date() : null,
    })
    .where(eq(videos.id, id));
  return id;
}

const attemptsOf = async (id: string) => ((await processorJobs(id)) as { payload: { attempt: number } }[]).map((j) => j.payload.attempt);

/** Asserts `actual` (a Date) lies within [from + seconds, to + seconds]. */
function expectLease(actual: Date | null, from: number, to: number, seconds: number) {
  expect(actual).toBeInstanceOf(Date);
  expect(actual!.getTime()).toBeGreaterThanOrEqual(from + seconds * SECOND);
  expect(actual!.getTime()).toBeLessThanOrEqual(to + seconds * SECOND);
}

let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("leases");
});

describe("lease lifecycle", () => {
  it("uses the documented defaults", () => {
    // PROCESSOR_IDLE_TIMEOUT_SECONDS is lowered to 2 s for these tests (vitest.config.mts); its default is checked below.
    expect(config).toMatchObject({ jobLeaseSeconds: 1800, processingLeaseSeconds: 600, processorIdleTimeoutSeconds: 2, maxJobRecoveries: 2 });
  });

  it("complete sets now + JOB_LEASE_SECONDS; a user's retry sets a new one and resets recoveries", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    await setScenario(id, "duplicate"); // the processor answers 409: the video stays queued
    const storage = new S3Storage(config.s3);
    const body = new Uint8Array(1000); // insertVideo declares 1000 bytes
    const signed = await storage.presignPut({
      bucket: config.videosBucket,
      key: sourceObjectKey(owner.userId, id),
      contentType: "video/mp4",
      contentLength: body.byteLength,
      ttlSeconds: 60,
    });
    expect((await fetch(signed.url, { method: "PUT", headers: signed.headers, body })).status).toBe(200);

    const before = Date.now();
    expect((await api(`/v1/videos/${id}/complete`, { method: "POST", token: owner.token })).status).toBe(202);
    const queued = await row(id);
    expect(queued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1, recoveries: 0 });
    expectLease(queued.leaseExpiresAt, before, Date.now(), 1800);

    // Failed after two recoveries; the user's retry starts over with a fresh lease and count.
    await db
      .update(videos)
      .set({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", attempt: 3, recoveries: 2, leaseExpiresAt: null })
      .where(eq(videos.id, id));
    const retryAt = Date.now();
    expect((await api(`/v1/videos/${id}/retry`, { method: "POST", token: owner.token })).status).toBe(202);
    const retried = await row(id);
    expect(retried).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 4, recoveries: 0 });
    expectLease(retried.leaseExpiresAt, retryAt, Date.now(), 1800);
  });

  it("PROCESSING renews to now + PROCESSING_LEASE_SECONDS, SUCCESS clears it; another attempt's events do not touch it", async () => {
    const queuedLease = new Date(Date.now() + 1800 * SECOND);
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2, leaseExpiresAt: queuedLease });
    const ref = { videoId: id, userId: owner.userId, attempt: 2 };

    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", { ...ref, attempt: 1 })]);
    expect((await row(id)).leaseExpiresAt).toEqual(queuedLease);

    let before = Date.now();
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref)]);
    const first = await row(id);
    expect(first.status).toBe("VIDEO_IMAGE_EXTRACTION_PROCESSING");
    expectLease(first.leaseExpiresAt, before, Date.now(), 600);

    await new Promise((r) => setTimeout(r, 20));
    before = Date.now();
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref, { progress: { fraction: 0.5, images: 1 } })]);
    const renewed = await row(id);
    expectLease(renewed.leaseExpiresAt, before, Date.now(), 600);
    expect(renewed.leaseExpiresAt!.getTime()).toBeGreaterThan(first.leaseExpiresAt!.getTime());

    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref)]);
    expect(await row(id)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", leaseExpiresAt: null });
    // A PROCESSING redelivered after the end neither revives the status nor the lease.
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref)]);
    expect(await row(id)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", leaseExpiresAt: null });
  });

  it("ERROR clears the lease", async () => {
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", leaseExpiresAt: new Date(Date.now() + 60 * SECOND) });
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId: id, userId: owner.userId, attempt: 1 })]);
    expect(await row(id)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", leaseExpiresAt: null });
  });
});

describe("cron: expired leases", () => {
  it.each(["VIDEO_IMAGE_EXTRACTION_QUEUED", "VIDEO_IMAGE_EXTRACTION_PROCESSING"] as const)(
    "an expired %s attempt is re-queued as attempt + 1 with exactly one new MSG_EXTRACT_SNAPSHOT",
    async (status) => {
      const id = await videoWithLease(owner.userId, { status, leaseExpiresAt: new Date(Date.now() - SECOND), progress: 0.4 });
      await setScenario(id, "duplicate"); // the job reaches the processor, which answers 409: nothing else changes
      const now = Date.now();
      await cron(now);

      const requeued = await row(id);
      expect(requeued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2, recoveries: 1, progress: null, processingStartedAt: null });
      expectLease(requeued.leaseExpiresAt, now, now, 1800);
      expect(await eventually(async () => ((await attemptsOf(id)).length > 0 ? attemptsOf(id) : undefined))).toEqual([2]);

      // The next run finds a live lease: nothing more is sent.
      await cron(Date.now());
      await settle();
      expect(await attemptsOf(id)).toEqual([2]);
      expect(await row(id)).toEqual(requeued);
      expect(await emailsFor(id)).toEqual([]);
    },
  );

  it("late events of the old attempt (a zombie processor) change nothing", async () => {
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", leaseExpiresAt: new Date(Date.now() - SECOND) });
    await setScenario(id, "duplicate");
    expect(await recoverExpiredLeases(deps(), extractJob, { now: new Date() })).toMatchObject({ errors: 0 });
    const requeued = await row(id);
    expect(requeued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2 });

    const old = { videoId: id, userId: owner.userId, attempt: 1 };
    const result = await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", old, { progress: { fraction: 0.9, images: 9 } }),
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", old),
      processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", old),
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(await row(id)).toEqual(requeued);
    await settle();
    expect(await emailsFor(id)).toEqual([]);
  });

  it("after MAX_JOB_RECOVERIES re-queues the video fails with 'Processing stopped responding' and the error email", async () => {
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", leaseExpiresAt: new Date(Date.now() - SECOND) });
    await setScenario(id, "duplicate");
    let now = Date.now();
    for (const attempt of [2, 3]) {
      await cron(now);
      expect(await row(id)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt, recoveries: attempt - 1 });
      // Let the job reach the processor before the attempt moves on (a stale job would be skipped).
      await eventually(async () => (await attemptsOf(id)).includes(attempt));
      now += HOUR; // the queued lease (1800 s) has run out by the next run
    }
    expect(await attemptsOf(id)).toEqual([2, 3]);

    await cron(now);
    const failed = await row(id);
    expect(failed).toMatchObject({
      status: "VIDEO_IMAGE_EXTRACTION_ERROR",
      attempt: 3,
      recoveries: 2,
      leaseExpiresAt: null,
      errorMessage: LEASE_EXPIRED_ERROR_MESSAGE,
    });
    expect(failed.errorDescription).toContain("2 automatic restart(s)");
    expect(failed.completedAt).not.toBeNull();
    const email = await eventually(async () => (await emailsFor(id))[0]);
    expect(email).toMatchObject({
      type: "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR",
      payload: { videoId: id, attempt: 3, to: owner.email, errorMessage: LEASE_EXPIRED_ERROR_MESSAGE },
    });

    // Later runs leave the failed video (and its single email) alone; no further job was sent.
    await cron(now + HOUR);
    await settle();
    expect(await row(id)).toEqual(failed);
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await attemptsOf(id)).toEqual([2, 3]);
  });

  it("leaves live leases, attempts without a lease and finished videos untouched", async () => {
    const now = Date.now();
    const ids = [
      await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", leaseExpiresAt: new Date(now + 60 * SECOND) }),
      await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", leaseExpiresAt: new Date(now + SECOND), progress: 0.3 }),
      await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", leaseExpiresAt: null }),
      await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", leaseExpiresAt: new Date(now - HOUR) }),
    ];
    const before = await Promise.all(ids.map(row));
    await recoverExpiredLeases(deps(), extractJob, { now: new Date(now) });
    await settle();
    expect(await Promise.all(ids.map(row))).toEqual(before);
    for (const id of ids) expect(await processorJobs(id)).toEqual([]);
  });

  it("a failed queue send restores the attempt (the next run tries again); the run reports the failure", async () => {
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 2, recoveries: 1, leaseExpiresAt: new Date(Date.now() - SECOND), progress: 0.6 });
    const before = await row(id);
    const down = {
      ...testEnv,
      EXTRACT_QUEUE: {
        send: async () => {
          throw new Error("queue down");
        },
      },
    } as unknown as Env;
    await expect(recoverExpiredLeases(deps(down), extractJob, { now: new Date() })).rejects.toThrow(/not handled/);
    const after = await row(id);
    expect({ ...after, updatedAt: before.updatedAt }).toEqual(before);
    expect(await processorJobs(id)).toEqual([]);
  });

  it("a PROCESSING that renewed the lease meanwhile wins over the give-up", async () => {
    const id = await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", recoveries: 2, leaseExpiresAt: new Date(Date.now() + 600 * SECOND) });
    const outcome = await recordEvent(
      deps(),
      extractJob,
      processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId: id, userId: owner.userId, attempt: 1 }, { errorMessage: LEASE_EXPIRED_ERROR_MESSAGE }) as ExtractSnapshotErrorMessage,
      { leaseExpiredBefore: new Date() },
    );
    expect(outcome.result).toBe("ignored");
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_PROCESSING");
    await settle();
    expect(await emailsFor(id)).toEqual([]);
  });

  it("handles at most `limit` videos per run, oldest lease first", async () => {
    const now = Date.now();
    const farPast = now - 100 * HOUR; // older than anything another test left behind
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await videoWithLease(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", leaseExpiresAt: new Date(farPast + i * SECOND) }));
    }
    for (const id of ids) await setScenario(id, "duplicate");
    expect(await recoverExpiredLeases(deps(), extractJob, { now: new Date(now), limit: 2 })).toMatchObject({ expired: 2, requeued: 2 });
    expect((await Promise.all(ids.map(row))).map((r) => r.attempt)).toEqual([2, 2, 1]);
  });
});

describe("processor object: idle event stream", () => {
  it("a stream silent for PROCESSOR_IDLE_TIMEOUT_SECONDS (2 s in these tests) is aborted and the attempt re-queued as a transient fault", async () => {
    const id = await insertVideo(owner.userId);
    await setScenario(id, "stall");
    const job = extractJobMessage({ videoId: id, userId: owner.userId, attempt: 1 });
    const result = await runQueue("vidsnap-extract", [job]);
    expect(result.explicitAcks).toHaveLength(1);
    // The events sent before the silence were relayed; the processor saw its client go away; attempt 2 was
    // queued (recovery 1, its message delayed by the transient backoff) without waiting for the lease to expire.
    await eventually(async () => ((await row(id)).attempt >= 2 ? true : undefined), 15_000);
    expect(await eventually(() => processorDisconnects(id))).toBeGreaterThanOrEqual(1);
    expect((await row(id)).recoveries).toBeGreaterThanOrEqual(1);
  });

  it("validates the lease settings: PROCESSING_LEASE_SECONDS must exceed PROCESSOR_IDLE_TIMEOUT_SECONDS", () => {
    const with_ = (vars: Partial<Env>) => checkConfig({ ...testEnv, ...vars });
    const ok = with_({ JOB_LEASE_SECONDS: "900", PROCESSING_LEASE_SECONDS: "120", PROCESSOR_IDLE_TIMEOUT_SECONDS: "60", MAX_JOB_RECOVERIES: "0" });
    expect(ok.ok && ok.config).toMatchObject({ jobLeaseSeconds: 900, processingLeaseSeconds: 120, processorIdleTimeoutSeconds: 60, maxJobRecoveries: 0 });
    const unset = with_({ JOB_LEASE_SECONDS: "", PROCESSING_LEASE_SECONDS: "", PROCESSOR_IDLE_TIMEOUT_SECONDS: "", MAX_JOB_RECOVERIES: "" });
    expect(unset.ok && unset.config).toMatchObject({ jobLeaseSeconds: 1800, processingLeaseSeconds: 600, processorIdleTimeoutSeconds: 300, maxJobRecoveries: 2 });
    for (const [vars, name] of [
      [{ PROCESSING_LEASE_SECONDS: "300", PROCESSOR_IDLE_TIMEOUT_SECONDS: "300" }, "PROCESSING_LEASE_SECONDS"],
      [{ PROCESSOR_IDLE_TIMEOUT_SECONDS: "900" }, "PROCESSOR_IDLE_TIMEOUT_SECONDS"],
      [{ JOB_LEASE_SECONDS: "10" }, "JOB_LEASE_SECONDS"],
      [{ MAX_JOB_RECOVERIES: "-1" }, "MAX_JOB_RECOVERIES"],
    ] as const) {
      const result = with_(vars);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems.join(";")).toContain(name);
    }
  });
});
