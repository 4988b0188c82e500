/**
 * Test helpers running inside workerd: message builders, a runner for the Worker's `queue()` handler,
 * a client for the Postmark mock's control endpoints, and D1 row access.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject, vi } from "vitest";
import { drizzle } from "drizzle-orm/d1";
import {
  sendSnapshotExtractionErrorMessage,
  sendSnapshotExtractionSuccessMessage,
  type SendSnapshotExtractionErrorMessage,
  type SendSnapshotExtractionSuccessMessage,
  type SnapshotEmailMessage,
} from "../../schema/messages/snapshot-email.ts";
import type { TranscodeEmailMessage } from "../../schema/messages/transcode-email.ts";
import { sendEmailVerificationMessage, type SendEmailVerificationMessage } from "../../schema/messages/account-email.ts";
import worker, { type EmailConsumerBindings } from "../../email-consumer/src/index.ts";
import { emailStore, emailWhere, type EmailKey } from "../../email-consumer/src/store.ts";

/** The bindings of the test Worker (wrangler.toml + miniflare bindings of vitest.config.mts). */
export interface TestBindings extends EmailConsumerBindings {
  TEST_MIGRATIONS: D1Migration[];
}

/** `env` of `cloudflare:workers`, typed for this suite (kept local: no global `Cloudflare.Env` merge). */
export const bindings = env as unknown as TestBindings;

/** Shape of `getQueueResult()` (declared in workers-types' experimental entry only). */
export interface QueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

/** A queue message to deliver: its body, and optionally its id and how many deliveries it has had (`message.attempts`). */
export interface Delivery {
  body: unknown;
  id?: string;
  deliveries?: number;
}

/** A unique video id per test, so tests never share D1 rows. */
export function newVideoId(): string {
  return `vid_${crypto.randomUUID()}`;
}

/** A valid `MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS`, payload overridable. */
export function successMessage(
  payload: Partial<SendSnapshotExtractionSuccessMessage["payload"]> = {},
): SendSnapshotExtractionSuccessMessage {
  return sendSnapshotExtractionSuccessMessage({
    videoId: newVideoId(),
    userId: "user_1",
    attempt: 1,
    to: "ada@example.com",
    name: "Ada Lovelace",
    filename: "holiday.mp4",
    imageCount: 42,
    zipSizeBytes: 12_345_678,
    downloadUrl: "https://images.example.com/users/u/videos/v/attempts/1/images.zip?X-Amz-Signature=abc&X-Amz-Expires=604800",
    downloadUrlExpiresAt: "2026-05-03T14:00:00.000Z",
    ...payload,
  });
}

/** A valid `MSG_SEND_SNAPSHOT_EXTRACTION_ERROR`, payload overridable. */
export function errorMessage(
  payload: Partial<SendSnapshotExtractionErrorMessage["payload"]> = {},
): SendSnapshotExtractionErrorMessage {
  return sendSnapshotExtractionErrorMessage({
    videoId: newVideoId(),
    userId: "user_1",
    attempt: 2,
    to: "grace@example.com",
    name: "Grace",
    filename: "broken.mov",
    errorMessage: "NO_VIDEO_STREAM",
    errorDescription: "The file has no video stream ffprobe can read.",
    ...payload,
  });
}

/** A valid `MSG_SEND_EMAIL_VERIFICATION`, payload overridable (a fresh `emailId` each call). */
export function verificationMessage(payload: Partial<SendEmailVerificationMessage["payload"]> = {}): SendEmailVerificationMessage {
  return sendEmailVerificationMessage({
    emailId: crypto.randomUUID(),
    userId: "user_1",
    to: "ada@example.com",
    verificationUrl: "https://api.vidsnap.example/api/auth/verify-email?token=eyJhbGciOiJIUzI1NiJ9.e30.sig&callbackURL=%2F",
    expiresAt: "2026-05-03T14:00:00.000Z",
    ...payload,
  });
}

/** The test env with overrides (e.g. a Postmark token); `undefined` removes a binding. */
export function envWith(overrides: Partial<Record<keyof TestBindings, unknown>> = {}): EmailConsumerBindings {
  const base: Record<string, unknown> = {
    DB: bindings.DB,
    ENVIRONMENT: bindings.ENVIRONMENT,
    EMAIL_FROM: bindings.EMAIL_FROM,
    POSTMARK_API_HOST: bindings.POSTMARK_API_HOST,
    POSTMARK_SERVER_TOKEN: bindings.POSTMARK_SERVER_TOKEN,
    POSTMARK_TIMEOUT_SECONDS: bindings.POSTMARK_TIMEOUT_SECONDS,
  };
  return { ...base, ...overrides } as unknown as EmailConsumerBindings;
}

/** What {@link deliver} observed. */
export interface DeliveryOutcome {
  /** `getQueueResult()`: acks and retries as the runtime would apply them. */
  result: QueueResult;
  /** The message ids, in batch order. */
  ids: string[];
  /**
   * Every `message.retry()` call with its options. vitest-pool-workers 0.15's `getQueueResult()` drops
   * `delaySeconds` (its test `QueueMessage.retry()` ignores its argument), so delays are observed here.
   */
  retries: { msgId: string; delaySeconds: number | undefined }[];
}

/**
 * Delivers messages to the Worker's `queue()` handler as one batch and returns the ack/retry state.
 * @param deliveries bodies (or full deliveries with id / delivery count)
 * @param workerEnv the env passed to the handler
 */
export async function deliver(
  deliveries: (Delivery | { body: unknown })[],
  workerEnv: EmailConsumerBindings = envWith(),
): Promise<DeliveryOutcome> {
  const messages = deliveries.map((d) => ({
    id: (d as Delivery).id ?? crypto.randomUUID(),
    timestamp: new Date(),
    attempts: (d as Delivery).deliveries ?? 1,
    body: d.body,
  }));
  const batch = createMessageBatch("vidsnap-email", messages);
  const retries: DeliveryOutcome["retries"] = [];
  for (const message of batch.messages) {
    const original = message.retry.bind(message);
    vi.spyOn(message, "retry").mockImplementation((options?: QueueRetryOptions) => {
      retries.push({ msgId: message.id, delaySeconds: options?.delaySeconds });
      original(options);
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, workerEnv, ctx);
  const result = (await getQueueResult(batch, ctx)) as QueueResult;
  return { result, ids: messages.map((m) => m.id), retries };
}

/** One `POST /email` as recorded by the mock (see `tools/stack/postmark-server.ts`). */
export interface MockRequest {
  receivedAt: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  status: number | null;
  messageId: string | null;
}

/**
 * A Postmark mock session: a unique token (the mock keys behaviour and records by token), the env that
 * sends with it, and the mock's control endpoints.
 */
export class PostmarkSession {
  readonly token = `test-token-${crypto.randomUUID()}`;
  readonly host = inject("postmarkHost");

  /** The env of a Worker sending through the mock with this session's token. */
  env(overrides: Partial<Record<keyof TestBindings, unknown>> = {}): EmailConsumerBindings {
    return envWith({ POSTMARK_API_HOST: this.host, POSTMARK_SERVER_TOKEN: this.token, ...overrides });
  }

  /** Sets how the mock answers this token. */
  async setMode(mode: "ok" | "fail" | "hang", status?: number): Promise<void> {
    const res = await fetch(`http://${this.host}/_mock/tokens/${encodeURIComponent(this.token)}/mode`, {
      method: "PUT",
      body: JSON.stringify({ mode, status }),
    });
    if (!res.ok) throw new Error(`mock mode: ${res.status}`);
  }

  /** Every `POST /email` the mock received with this token. */
  async requests(): Promise<MockRequest[]> {
    const res = await fetch(`http://${this.host}/_mock/tokens/${encodeURIComponent(this.token)}/requests`);
    if (!res.ok) throw new Error(`mock requests: ${res.status}`);
    return (await res.json()) as MockRequest[];
  }

  /** The emails the mock accepted (answered 200). */
  async accepted(): Promise<MockRequest[]> {
    return (await this.requests()).filter((r) => r.status === 200);
  }
}

/** The `emails` row of a message, or undefined. */
export function rowOf(message: SnapshotEmailMessage | TranscodeEmailMessage) {
  const key: EmailKey = {
    videoId: message.payload.videoId,
    jobId: "transcodeId" in message.payload ? message.payload.transcodeId : "",
    attempt: message.payload.attempt,
    outcome: message.type === "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS" || message.type === "MSG_SEND_TRANSCODE_SUCCESS" ? "success" : "error",
  };
  return emailStore.find(drizzle(bindings.DB), emailWhere(key));
}

/** Parses the JSON log lines written to a console spy's calls. */
export function jsonLines(calls: unknown[][]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const call of calls) {
    if (typeof call[0] !== "string") continue;
    try {
      const parsed = JSON.parse(call[0]) as unknown;
      if (typeof parsed === "object" && parsed !== null) out.push(parsed as Record<string, unknown>);
    } catch {
      // not a structured line
    }
  }
  return out;
}
