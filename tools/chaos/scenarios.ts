/**
 * The chaos scenarios, each run against a chaos stack (./harness.ts) and checked by ./verify.ts. Sizes come from {@link ChaosSize}: `npm run chaos` uses {@link LONG}, the test in `npm test`
 * (tests/chaos/chaos.test.ts) {@link SHORT}.
 *
 * | id | fault |
 * |---|---|
 * | kill | the processor SIGKILLed 1–3 s into running jobs, several times, restarted each time; one video also asks a transcode (MP4 + HLS of 60 s), whose job is killed first when it runs long enough |
 * | duplicates | every POST /jobs sent twice while it runs, NDJSON events duplicated and reordered (proxy); with a stack started with `duplicateDeliveries`, every queue message also delivered twice, event copies late |
 * | s3-outage | the S3 server stopped for N s during a job, then restarted on the same port and data |
 * | postmark | the Postmark-speaking server answering 500, then never answering (timeout), then healthy |
 * | load | N uploads at once, processor limited to 2 concurrent jobs, one broken file among them |
 * | delete | videos deleted while their job runs, and one while queued |
 */
import {
  authenticate,
  createVidsnapClient,
  isVidsnapApiError,
  unwrap,
  type ExtractionOptions,
  type TranscodeRequest,
  type VidsnapClient,
} from "../../client/src/index.ts";
import { UploadError, uploadVideoFile } from "../../client/src/upload.ts";
import { backoffDelay } from "../../runtime/backoff.ts";
import { testVideo } from "../paths.ts";
import { verificationEmailIn, verifyAddress } from "../stack/local-emails.ts";
import type { ChaosStack } from "./harness.ts";
import { verifyScenario, type ScenarioResult, type TrackedVideo } from "./verify.ts";

/** Scenario sizes. */
export interface ChaosSize {
  /** Processor kills in `kill` (each 1–3 s into a running job). */
  kills: number;
  /** Videos of `kill`. */
  killVideos: number;
  /** Videos of `duplicates`. */
  duplicateVideos: number;
  /** Length of the S3 outage, seconds. */
  s3OutageSeconds: number;
  /** Videos of `s3-outage`. */
  s3Videos: number;
  /** Videos of `postmark`. */
  postmarkVideos: number;
  /** Uploads at once in `load`. */
  loadUploads: number;
  /** Videos deleted while running in `delete` (plus one deleted while queued). */
  deleteVideos: number;
  /** Time allowed to each scenario to settle, ms. */
  deadlineMs: number;
  /** JOB_LEASE_SECONDS of the stack: above the longest queue wait (local Queues run one job batch at a time). */
  jobLeaseSeconds: number;
}

/** `npm run chaos`. */
export const LONG: ChaosSize = {
  kills: 3,
  killVideos: 4,
  duplicateVideos: 6,
  s3OutageSeconds: 20,
  s3Videos: 3,
  postmarkVideos: 4,
  loadUploads: 50,
  deleteVideos: 3,
  deadlineMs: 600_000,
  jobLeaseSeconds: 600,
};

/** The chaos test inside `npm test`. */
export const SHORT: ChaosSize = {
  kills: 3,
  killVideos: 3,
  duplicateVideos: 3,
  s3OutageSeconds: 5,
  s3Videos: 2,
  postmarkVideos: 2,
  loadUploads: 8,
  deleteVideos: 1,
  deadlineMs: 180_000,
  jobLeaseSeconds: 90,
};

export type ScenarioId = "kill" | "duplicates" | "s3-outage" | "postmark" | "load" | "delete";
export const SCENARIOS: ScenarioId[] = ["kill", "duplicates", "s3-outage", "postmark", "load", "delete"];

/** A long-running job: franck.mp4 (200 s, 360x288) at one image per second takes a few seconds. */
const SLOW = { file: "franck.mp4", options: { mode: "interval" as const, intervalSeconds: 1 } };
const SMALL = ["hardware-example.mp4", "display-dual-monitors.webm"];
const BROKEN = "DERIVED_franck.truncated-50pct.mp4";
/** The transcode of `kill`: two renditions of the first 60 s of franck.mp4 (one decode, a few seconds of work). */
const KILL_TRANSCODE: TranscodeRequest = { renditions: [{ format: "mp4", height: 240 }, { format: "hls", heights: [240] }], endSeconds: 60 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one scenario and its checks.
 * @param log progress lines (scenario steps, faults injected)
 */
export async function runScenario(
  id: ScenarioId,
  stack: ChaosStack,
  size: ChaosSize,
  log: (line: string) => void = () => undefined,
): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const email = `chaos-${id}-${startedAt}@example.com`;
  const { token } = await withRetry(() => authenticate(stack.apiUrl, "sign-up", { email, password: "correct-horse-battery", name: `Chaos ${id}` }));
  // Outcome emails go to verified addresses only: open the verification email's link, as the owner would.
  await verifyAddress(async () => verificationEmailIn(await stack.postmark.requests(), email));
  const client: Client = { api: createVidsnapClient({ baseUrl: stack.apiUrl, token }), baseUrl: stack.apiUrl, token };
  const tracked: TrackedVideo[] = [];
  const notes: string[] = [];
  const say = (line: string) => log(`[${id}] ${line}`);

  switch (id) {
    case "kill": {
      for (let i = 0; i < size.killVideos; i++) {
        // The last video also asks a transcode with its upload: both jobs run after complete.
        const transcode = i === size.killVideos - 1 ? KILL_TRANSCODE : undefined;
        tracked.push(await submit(client, SLOW.file, "success", SLOW.options, transcode));
      }
      const ids = new Set(tracked.map((v) => v.id));
      const killed = new Set<string>();
      for (let k = 0; k < size.kills; k++) {
        const runMs = 1_000 + Math.random() * 2_000;
        // First kill: the transcode's job when it runs long enough (its keys end in `#<transcodeId>`). Then
        // prefer a job not killed yet (each job then needs one redelivery, not three); any job of this
        // scenario after 20 s.
        // A job is the same across attempts (`videoId#attempt[#transcodeId]` without the attempt): killing one
        // job three times would exhaust its restart budget and fail it, which is not this scenario's point.
        const isTranscode = (key: string) => key.split("#").length === 3;
        const identity = (key: string) => key.split("#").filter((_, i) => i !== 1).join("#");
        const job =
          (k === 0 ? await waitForJob(stack, runMs, 20_000, (key) => ids.has(key.split("#")[0]!) && isTranscode(key)) : undefined) ??
          (await waitForJob(stack, runMs, 20_000, (key) => ids.has(key.split("#")[0]!) && !killed.has(identity(key)))) ??
          (await waitForJob(stack, runMs, 90_000, (key) => ids.has(key.split("#")[0]!) && !(isTranscode(key) && killed.has(identity(key)))));
        if (!job) {
          notes.push(`kill ${k + 1}: no job ran long enough to be killed`);
          break;
        }
        killed.add(identity(job));
        await stack.processor.kill();
        say(`SIGKILL ${k + 1} after ${Math.round(runMs)} ms of ${isTranscode(job) ? "transcode" : "extraction"} job ${job}`);
        if (isTranscode(job)) notes.push(`SIGKILL ${k + 1} hit the transcode's job ${job}`);
        await sleep(500);
        await stack.processor.start();
      }
      notes.push(`${size.kills} SIGKILLs, processor started ${stack.processor.starts()} times in all`);
      break;
    }
    case "duplicates": {
      stack.proxy.faults.duplicateJobs = true;
      stack.proxy.faults.shuffleEvents = true;
      const first = stack.proxy.jobs.length;
      try {
        for (let i = 0; i < size.duplicateVideos; i++) {
          const file = i === size.duplicateVideos - 1 ? BROKEN : SMALL[i % SMALL.length]!;
          tracked.push(await submit(client, file, file === BROKEN ? "error" : "success"));
        }
        const ids = new Set(tracked.map((v) => v.id));
        await waitUntil(() => tracked.every((v) => stack.proxy.jobs.some((j) => j.key.startsWith(v.id) && j.endedAt !== null)), 120_000);
        const mine = stack.proxy.jobs.slice(first).filter((j) => ids.has(j.key.split("#")[0]!));
        const injected = mine.filter((j) => j.injected);
        notes.push(
          `${injected.length} duplicate POST /jobs injected: ${injected.filter((j) => j.status === 409).length} answered 409, ` +
            `${injected.filter((j) => j.status === 200).length} started a second job`,
        );
        for (const j of injected.filter((x) => x.status === 200)) {
          // A copy arriving after the job ended may legitimately run again only if the original had finished.
          const original = mine.find((o) => !o.injected && o.key === j.key && o.status === 200);
          if (original && (original.endedAt === null || original.endedAt > j.startedAt)) {
            notes.push(`PROBLEM: ${j.key} ran twice at the same time`);
          }
        }
      } finally {
        stack.proxy.faults.duplicateJobs = false;
        stack.proxy.faults.shuffleEvents = false;
      }
      break;
    }
    case "s3-outage": {
      // A good file meeting the outage must still succeed: the processor's S3 retries ride out a blip, and a
      // longer outage ends the attempt with a retryable ERROR that the API re-queues with backoff.
      for (let i = 0; i < size.s3Videos; i++) tracked.push(await submit(client, SLOW.file, "success", SLOW.options));
      const ids = new Set(tracked.map((v) => v.id));
      const job = await waitForJob(stack, 700, 90_000, (key) => ids.has(key.split("#")[0]!));
      if (!job) notes.push("no job was running when the S3 server went down");
      await stack.s3.stop();
      say(`S3 server down for ${size.s3OutageSeconds} s (job ${job ?? "none"} running)`);
      await sleep(size.s3OutageSeconds * 1000);
      await stack.s3.start();
      say("S3 server back");
      break;
    }
    case "postmark": {
      const before = (await stack.postmark.requests()).length;
      await stack.postmark.setMode({ mode: "fail", status: 500 });
      tracked.push(await submit(client, SMALL[0]!, "success"));
      await waitUntil(async () => (await stack.postmark.requests()).slice(before).some((r) => r.status === 500), 120_000);
      say("Postmark answered 500; now it stops answering");
      await stack.postmark.setMode({ mode: "hang" });
      const hungFrom = (await stack.postmark.requests()).length;
      for (let i = 1; i < size.postmarkVideos; i++) {
        const file = i === size.postmarkVideos - 1 ? BROKEN : SMALL[i % SMALL.length]!;
        tracked.push(await submit(client, file, file === BROKEN ? "error" : "success"));
      }
      await waitUntil(async () => (await stack.postmark.requests()).slice(hungFrom).some((r) => r.status === null), 120_000);
      await sleep(4_000); // past POSTMARK_TIMEOUT_SECONDS: the consumer gave up on the hung call
      await stack.postmark.setMode({ mode: "ok" });
      say("Postmark healthy again");
      const all = (await stack.postmark.requests()).slice(before);
      notes.push(`Postmark answered ${all.filter((r) => r.status === 500).length}× 500 and left ${all.filter((r) => r.status === null).length} call(s) unanswered`);
      break;
    }
    case "load": {
      const files = Array.from({ length: size.loadUploads }, (_, i) => (i === 0 ? BROKEN : SMALL[i % SMALL.length]!));
      const results = await Promise.all(files.map((f) => submit(client, f, f === BROKEN ? "error" : "success")));
      tracked.push(...results);
      say(`${results.length} uploads completed`);
      break;
    }
    case "delete": {
      // One deleted while still queued behind a running job.
      const running = await submit(client, SLOW.file, "success", SLOW.options);
      tracked.push(running);
      const queued = await submit(client, SLOW.file, "success", SLOW.options);
      await deleteVideo(client, queued.id);
      tracked.push({ ...queued, deleted: true });
      for (let i = 0; i < size.deleteVideos; i++) {
        const v = await submit(client, SLOW.file, "success", SLOW.options);
        const job = await waitForJob(stack, 800, 120_000, (key) => key.startsWith(`${v.id}#`));
        await deleteVideo(client, v.id);
        say(`deleted ${v.id} while ${job ? "its job ran" : "queued (its job never started in time)"}`);
        tracked.push({ ...v, deleted: true });
      }
      break;
    }
  }

  const result = await verifyScenario(id, stack, client.api, tracked, startedAt, { deadlineMs: size.deadlineMs });
  for (const n of notes) (n.startsWith("PROBLEM: ") ? result.problems : result.notes).push(n.replace(/^PROBLEM: /, ""));
  if (id === "load") result.notes.push(`at most ${stack.processor.maxRunningJobs()} jobs ran at once in the processor`);
  return result;
}

/** The typed client of a scenario's user, with what {@link uploadVideoFile} needs. */
interface Client {
  api: VidsnapClient;
  baseUrl: string;
  token: string;
}

/**
 * Creates a video of test video `file`, uploads and completes it (client/src/upload.ts), retried on 429,
 * 5xx and network errors (rate limits, storage blips). When the video exists but a step failed, its
 * `/complete` is tried again first (the bytes may be stored); otherwise the whole upload starts over.
 * @param transcode sent as `transcode` with POST /v1/videos; the transcode (found with GET …/transcodes) is
 *   tracked with the same expected outcome as the video
 */
async function submit(
  client: Client,
  file: string,
  expect: TrackedVideo["expect"],
  options?: ExtractionOptions,
  transcode?: TranscodeRequest,
): Promise<TrackedVideo> {
  const filePath = testVideo(file);
  const id = await withRetry(async () => {
    try {
      return (
        await uploadVideoFile({ baseUrl: client.baseUrl, token: client.token, filePath, ...(options ? { options } : {}), ...(transcode ? { transcode } : {}) })
      ).id;
    } catch (err) {
      const videoId = err instanceof UploadError ? err.videoId : undefined;
      if (!videoId || !transient(err)) throw err;
      const done = await client.api.POST("/v1/videos/{id}/complete", { params: { path: { id: videoId } }, body: {} }).catch(() => undefined);
      if (done?.response.ok) return videoId;
      throw err;
    }
  });
  if (!transcode) return { id, file, expect };
  const list = await withRetry(async () => unwrap(await client.api.GET("/v1/videos/{id}/transcodes", { params: { path: { id } } })));
  const tid = list.data[0]?.id;
  if (!tid) throw new Error(`video ${id} was created with a transcode, but lists none`);
  return { id, file, expect, transcode: { id: tid, expect } };
}

async function deleteVideo(client: Client, id: string): Promise<void> {
  await withRetry(async () => unwrap(await client.api.DELETE("/v1/videos/{id}", { params: { path: { id } } })));
}

/** 429, 5xx, or no answer at all (network error). */
function transient(err: unknown): boolean {
  const status = isVidsnapApiError(err) || err instanceof UploadError ? err.status : undefined;
  return status === undefined || status === 429 || status >= 500;
}

/** Retries `fn` on {@link transient} failures: up to 8 tries, 0.5 s doubling to 8 s (Retry-After ignored). */
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await fn();
    } catch (e) {
      if (!transient(e) || tries >= 8) throw e;
      await sleep(backoffDelay(tries, { base: 500, max: 8_000 }));
    }
  }
}

/**
 * Waits until a job accepted by `which` (given its `${videoId}#${attempt}` key) has been running at the
 * processor for `runMs`.
 * @returns its key, or undefined after `timeoutMs`
 */
async function waitForJob(
  stack: ChaosStack,
  runMs: number,
  timeoutMs: number,
  which: (key: string) => boolean,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = stack.proxy.running().find((j) => which(j.key) && Date.now() - j.startedAt >= runMs);
    if (job) return job.key;
    await sleep(100);
  }
  return undefined;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
}
