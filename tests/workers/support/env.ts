/**
 * Test helpers running in workerd: the typed test env, HTTP calls into the Worker, sign-up, direct D1
 * fixtures, the stand-in processor's control endpoints and the email sink.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, type D1Migration } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import { eq } from "drizzle-orm";
import { user, videos } from "../../../schema/db.ts";
import {
  extractSnapshotErrorMessage,
  extractSnapshotMessage,
  extractSnapshotProcessingMessage,
  extractSnapshotSuccessMessage,
  type ExtractSnapshotEvent,
  type ExtractSnapshotMessage,
} from "../../../schema/messages/index.ts";
import { archiveObjectKey, manifestObjectKey, s3Uri } from "../../../schema/object-keys.ts";
import { SAMPLE_SOURCE_FACTS } from "../fixtures.ts";
import type { ExtractionOptions } from "../../../schema/extraction-options.ts";
import type { VideoStatus } from "../../../schema/video-status.ts";
import { sessionTokenDigest } from "../../../edge-api/src/auth-session-tokens.ts";
import { createDeps, type Deps } from "../../../edge-api/src/context.ts";
import { createDb } from "../../../edge-api/src/db.ts";
import { createLogger } from "../../../runtime/log.ts";
import { ConfigError, loadConfig, type Config, type Env } from "../../../edge-api/src/env.ts";
import worker from "../../../edge-api/src/index.ts";
import { S3Storage } from "../../../edge-api/src/storage/s3.ts";
import type { Scenario } from "../stand-in-processor.ts";
import type { JobCredentials } from "../../../schema/storage-credentials.ts";

/** The Worker's env plus what the test config adds. */
export type TestEnv = Env & { TEST_MIGRATIONS: D1Migration[]; EMAIL_SINK: Fetcher };
export const testEnv = env as unknown as TestEnv;
export const db = createDb(testEnv.DB);

/** The secrets staging and production require (placeholders of real-looking shape), for remote-config tests. */
export const remoteSecrets = {
  BETTER_AUTH_SECRET: "x".repeat(40),
  S3_ACCESS_KEY_ID: "AKIAEXAMPLEKEY",
  S3_SECRET_ACCESS_KEY: "a-real-looking-secret-key",
  R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  R2_PARENT_API_TOKEN: "a-real-looking-api-token",
} as const;

/**
 * {@link loadConfig} as a result, for assertions on valid and invalid envs.
 * @throws what loadConfig throws other than ConfigError
 */
export function checkConfig(candidate: Env): { ok: true; config: Config } | { ok: false; problems: readonly string[] } {
  try {
    return { ok: true, config: loadConfig(candidate) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems };
    throw err;
  }
}

/** Service deps for calling services and consumers directly: `env`'s config, a logger that keeps errors only. */
export function testDeps(env: Env = testEnv): Deps {
  return createDeps(env, loadConfig(env), createLogger({}, { minLevel: "error" }));
}

/**
 * A queue message on its `deliveries`-th delivery, for calling a consumer directly: records whether it was
 * acked or retried, with the retry options as given (getQueueResult omits retry delays).
 */
export function recordingMessage(body: unknown, deliveries = 1) {
  const message = {
    id: crypto.randomUUID(),
    timestamp: new Date(),
    body,
    attempts: deliveries,
    outcome: undefined as undefined | "ack" | { retry: QueueRetryOptions | undefined },
    ack() {
      message.outcome = "ack";
    },
    retry(options?: QueueRetryOptions) {
      message.outcome = { retry: options };
    },
  };
  return message;
}

export const BASE = "http://127.0.0.1:8787";
const self = (exports as unknown as { default: Fetcher }).default;

/** Sends a request to the Worker's `fetch` (the same module instance as `main`). */
export function api(path: string, init: RequestInit & { token?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return self.fetch(BASE + path, { ...init, headers, body, redirect: "manual" });
}

let users = 0;
/**
 * Signs up a fresh user through better-auth, then signs in (sign-up itself never signs in), and returns
 * the bearer token (`set-auth-token` of the sign-in) and the user's id. The address is then marked verified
 * in D1, as following the verification link would (outcome emails go to verified addresses only), unless
 * `verified: false`.
 */
export async function signUp(name = "tester", opts: { verified?: boolean } = {}): Promise<{ token: string; userId: string; email: string }> {
  const email = `${name}-${++users}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const res = await api("/api/auth/sign-up/email", { method: "POST", json: { email, password: "correct-horse-battery", name } });
  if (res.status !== 200) throw new Error(`sign-up → ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  if (opts.verified !== false) await db.update(user).set({ emailVerified: true }).where(eq(user.email, email));
  return { email, ...(await signIn(email)) };
}

/** Signs in with the password {@link signUp} uses; returns the bearer token and the user's id. */
export async function signIn(email: string, password = "correct-horse-battery"): Promise<{ token: string; userId: string }> {
  const res = await api("/api/auth/sign-in/email", { method: "POST", json: { email, password } });
  if (res.status !== 200) throw new Error(`sign-in → ${res.status}: ${await res.text()}`);
  const token = res.headers.get("set-auth-token");
  const body = (await res.json()) as { user: { id: string } };
  if (!token) throw new Error("no set-auth-token header");
  return { token, userId: body.user.id };
}

/**
 * The `session.token` value D1 holds for a bearer token: the digest of its unsigned part
 * (edge-api/src/auth-session-tokens.ts).
 * @param bearerToken the `set-auth-token` value, `<token>.<signature>` (URL-encoded or not)
 */
export async function storedSessionToken(bearerToken: string): Promise<string> {
  return sessionTokenDigest(decodeURIComponent(bearerToken).split(".")[0]!);
}

/** Inserts a video row directly (for consumer tests that must not go through the queues). */
export async function insertVideo(
  userId: string,
  fields: { status?: VideoStatus; attempt?: number; recoveries?: number; filename?: string; options?: ExtractionOptions; createdAt?: Date } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  const now = fields.createdAt ?? new Date();
  await db.insert(videos).values({
    id,
    userId,
    filename: fields.filename ?? "clip.mp4",
    contentType: "video/mp4",
    sizeBytes: 1000,
    status: fields.status ?? "VIDEO_IMAGE_EXTRACTION_QUEUED",
    options: fields.options ?? { mode: "keyframes" },
    attempt: fields.attempt ?? 1,
    recoveries: fields.recoveries ?? 0,
    sourceKey: `users/${userId}/videos/${id}/source`,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/**
 * Writes an object into the S3 server through a presigned PUT (as any client would).
 * @throws Error when the server refuses it
 */
export async function putObject(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
  const storage = new S3Storage(loadConfig(testEnv).s3);
  const signed = await storage.presignPut({ bucket, key, contentType, contentLength: body.byteLength, ttlSeconds: 60 });
  const res = await fetch(signed.url, { method: "PUT", headers: signed.headers, body });
  if (res.status !== 200) throw new Error(`PUT ${key} → ${res.status}: ${await res.text()}`);
}

/** Uploads the source object of a video made by {@link insertVideo} (its declared 1000 bytes), as its owner would. */
export async function putSource(userId: string, videoId: string): Promise<void> {
  await putObject(loadConfig(testEnv).videosBucket, `users/${userId}/videos/${videoId}/source`, new Uint8Array(1000), "video/mp4");
}

/** Runs the Worker's `queue()` on one batch and returns the ack/retry outcome of each message. */
export async function runQueue(queue: string, bodies: unknown[], opts: { attempts?: number } = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `msg-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  return getQueueResult(batch, ctx);
}

const processorUrl = () => inject("processorUrl");

/** Scripts what the stand-in processor does for a video. */
export async function setScenario(videoId: string, scenario: Scenario): Promise<void> {
  const res = await fetch(`${processorUrl()}/__scenario/${videoId}`, { method: "PUT", body: JSON.stringify({ scenario }) });
  if (res.status !== 204) throw new Error(`scenario → ${res.status}`);
}

/** Jobs the stand-in processor received for a video. */
export async function processorJobs(videoId: string): Promise<unknown[]> {
  const res = await fetch(`${processorUrl()}/__jobs/${videoId}`);
  return ((await res.json()) as { jobs: unknown[] }).jobs;
}

/** The storage credentials each job request for a video (or transcode) carried, in order (null when none). */
export async function processorCredentials(id: string): Promise<(JobCredentials | null)[]> {
  const res = await fetch(`${processorUrl()}/__jobs/${id}`);
  return ((await res.json()) as { credentials: (JobCredentials | null)[] }).credentials;
}

/**
 * Which processor instance (`processor-<i>`) sent each job request and each cancel of a video or transcode,
 * and the `x-vidsnap-slot-wait` of each job request ('' when absent).
 */
export async function processorInstances(id: string): Promise<{ jobs: string[]; cancels: string[]; slotWaits: string[] }> {
  const res = await fetch(`${processorUrl()}/__jobs/${id}`);
  const body = (await res.json()) as { instances: string[]; cancelInstances: string[]; slotWaits: string[] };
  return { jobs: body.instances, cancels: body.cancelInstances, slotWaits: body.slotWaits };
}

/** Job requests for a video the stand-in processor refused for their signature (401). */
export async function processorRefusedJobs(videoId: string): Promise<number> {
  const res = await fetch(`${processorUrl()}/__jobs/${videoId}`);
  return ((await res.json()) as { refused: number }).refused;
}

/** Streams of a video's jobs whose client (the extract consumer) closed them before the end. */
export async function processorDisconnects(videoId: string): Promise<number> {
  const res = await fetch(`${processorUrl()}/__jobs/${videoId}`);
  return ((await res.json()) as { disconnects: number }).disconnects;
}

/** Messages the email queue delivered for a video. */
export async function emailsFor(videoId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const res = await testEnv.EMAIL_SINK.fetch(`http://sink/messages?videoId=${videoId}`);
  return res.json();
}

/** Messages the email queue delivered for a transcode. */
export async function emailsForTranscode(transcodeId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const res = await testEnv.EMAIL_SINK.fetch(`http://sink/messages?transcodeId=${transcodeId}`);
  return res.json();
}

/** Cancel requests (`DELETE /jobs/…`) the stand-in processor received for a job id. */
export async function processorCancels(id: string): Promise<number> {
  const res = await fetch(`${processorUrl()}/__jobs/${id}`);
  return ((await res.json()) as { cancels: number }).cancels;
}

/** A processor event envelope for tests of the events consumer. */
export function processorEvent(
  type: "MSG_EXTRACT_SNAPSHOT_PROCESSING" | "MSG_EXTRACT_SNAPSHOT_SUCCESS" | "MSG_EXTRACT_SNAPSHOT_ERROR",
  ref: { videoId: string; userId: string; attempt: number },
  extra: Record<string, unknown> = {},
) {
  const defaults: Record<string, Record<string, unknown>> = {
    MSG_EXTRACT_SNAPSHOT_PROCESSING: {},
    MSG_EXTRACT_SNAPSHOT_SUCCESS: {
      archiveUri: s3Uri("vidsnap-images", archiveObjectKey(ref.userId, ref.videoId, ref.attempt)),
      manifestUri: s3Uri("vidsnap-images", manifestObjectKey(ref.userId, ref.videoId, ref.attempt)),
      imageCount: 2,
      zipSizeBytes: 4321,
      source: SAMPLE_SOURCE_FACTS,
    },
    MSG_EXTRACT_SNAPSHOT_ERROR: { errorMessage: "The file is not a video.", errorDescription: "ffprobe failed" },
  };
  const build = {
    MSG_EXTRACT_SNAPSHOT_PROCESSING: extractSnapshotProcessingMessage,
    MSG_EXTRACT_SNAPSHOT_SUCCESS: extractSnapshotSuccessMessage,
    MSG_EXTRACT_SNAPSHOT_ERROR: extractSnapshotErrorMessage,
  }[type] as (payload: unknown) => ExtractSnapshotEvent;
  return build({ ...ref, ...defaults[type], ...extra });
}

/** The MSG_EXTRACT_SNAPSHOT of one attempt (options: keyframes). */
export function extractJobMessage(ref: { videoId: string; userId: string; attempt: number }): ExtractSnapshotMessage {
  return extractSnapshotMessage({ ...ref, options: { mode: "keyframes" } });
}

/** Polls `fn` until it returns a truthy value (default 10 s). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
