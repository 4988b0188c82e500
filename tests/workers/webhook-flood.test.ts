/**
 * The service must not be usable to flood a URL through webhooks (`npm run audit:security` suite
 * `webhook-flood`):
 * - webhook creation, test pings and secret rotation are rate-limited per user and action
 *   (WEBHOOK_RATE_LIMITER, edge-api/src/rate-limit.ts). The suite's wrangler.toml limit is high, so these
 *   tests run the Worker with WEBHOOK_RATE_LIMITER swapped for TEST_TIGHT_RATE_LIMITER (3 per 10 s window,
 *   tests/workers/vitest.config.mts), each on fresh users and early in a window;
 * - a `ping` gets exactly one try: a failed one ends `failed` with no retry scheduled;
 * - an endpoint holds at most MAX_PENDING_DELIVERIES_PER_ENDPOINT waiting deliveries; further events are
 *   recorded `failed` and never sent (edge-api/src/services/webhooks/pending-cap.ts).
 * Deliveries go to the loopback receiver of support/webhook-receiver.ts.
 */
import { createExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { WebhookDelivery } from "../../schema/api.ts";
import { videos, webhookDeliveries, webhookEndpoints } from "../../schema/db.ts";
import { type Env } from "../../edge-api/src/env.ts";
import worker from "../../edge-api/src/index.ts";
import { consumeWebhook } from "../../edge-api/src/queues/webhooks-consumer.ts";
import { RETRY_AFTER_SECONDS } from "../../edge-api/src/rate-limit.ts";
import { WEBHOOK_MAX_ATTEMPTS } from "../../edge-api/src/services/webhooks/deliver-webhook.ts";
import { enqueueVideoWebhooks } from "../../edge-api/src/services/webhooks/enqueue-video-event.ts";
import {
  MAX_PENDING_DELIVERIES_PER_ENDPOINT,
  PENDING_CAP_ERROR,
  PENDING_CAP_WINDOW_MS,
} from "../../edge-api/src/services/webhooks/pending-cap.ts";
import { sendTestEvent } from "../../edge-api/src/services/webhooks/send-test-event.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { api, BASE, db, eventually, insertVideo, runQueue, signUp, testEnv, recordingMessage } from "./support/env.ts";
import { capturingDeps, createEndpoint, deliveries, deliveryRow, hookUrl, plan, received, type User } from "./support/webhooks.ts";

const TIGHT = (testEnv as unknown as { TEST_TIGHT_RATE_LIMITER: RateLimit }).TEST_TIGHT_RATE_LIMITER;
const TIGHT_LIMIT = 3;
const TIGHT_PERIOD_MS = 10_000;
/** One env object for the file (config and better-auth are cached per env object). */
const tightEnv: Env = { ...testEnv, WEBHOOK_RATE_LIMITER: TIGHT };

/** A request to the Worker with WEBHOOK_RATE_LIMITER at 3 per 10 s. */
async function tightCall(path: string, token: string, json?: unknown): Promise<Response> {
  const headers = new Headers({ authorization: `Bearer ${token}` });
  if (json !== undefined) headers.set("content-type", "application/json");
  const request = new Request(BASE + path, { method: "POST", headers, body: json === undefined ? undefined : JSON.stringify(json) });
  return worker.fetch(request as Parameters<typeof worker.fetch>[0], tightEnv, createExecutionContext());
}

/** Waits, if needed, until at least 6 s remain in the limiter's current 10 s window. */
async function startOfWindow() {
  const into = Date.now() % TIGHT_PERIOD_MS;
  if (TIGHT_PERIOD_MS - into < 6_000) await new Promise((r) => setTimeout(r, TIGHT_PERIOD_MS - into + 50));
}

/** `status type` of a problem answer, `status` otherwise (for audit rows). */
async function outcome(res: Response): Promise<string> {
  if (res.headers.get("content-type") !== "application/problem+json") {
    await res.body?.cancel();
    return String(res.status);
  }
  const { type } = (await res.clone().json()) as { type: string };
  return `${res.status} ${type.replace("https://vidsnap.dev/problems/", "")}`;
}

async function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));
  expect(await res.json()).toMatchObject({ type: "https://vidsnap.dev/problems/rate-limited", status: 429 });
}

const rowsOf = (endpointId: string) => db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));

/** A video of `user` finished with SUCCESS, its webhooks enqueued with a capturing queue. */
async function finishVideo(user: User) {
  const id = await insertVideo(user.userId);
  await db
    .update(videos)
    .set({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", imageCount: 3, zipSizeBytes: 999, progress: 1, completedAt: new Date() })
    .where(eq(videos.id, id));
  const { deps, sent } = capturingDeps();
  const [video] = await db.select().from(videos).where(eq(videos.id, id));
  await enqueueVideoWebhooks(deps, video!);
  const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.videoId, id));
  return { videoId: id, sent, rows };
}

/** Writes `count` waiting (`pending`, never tried) deliveries for an endpoint, created at `createdAt`. */
async function fillPending(user: User, endpointId: string, count: number, createdAt = new Date()) {
  const inserts = Array.from({ length: count }, () =>
    db.insert(webhookDeliveries).values({
      id: crypto.randomUUID(),
      endpointId,
      userId: user.userId,
      eventId: "evt_" + crypto.randomUUID().replace(/-/g, ""),
      eventType: "ping",
      payload: "{}",
      createdAt,
      updatedAt: createdAt,
    }),
  );
  const [first, ...rest] = inserts;
  await db.batch([first!, ...rest]);
}

describe("rate limits of webhook creation, test and rotation (per user and action)", () => {
  let ann: User;
  let ben: User;
  beforeAll(async () => {
    [ann, ben] = await Promise.all([signUp("flood-ann"), signUp("flood-ben")]);
  });

  it(`create: ${TIGHT_LIMIT} per window, then 429 with Retry-After; the refused one stores nothing`, async () => {
    await startOfWindow();
    const statuses: string[] = [];
    for (let i = 0; i < TIGHT_LIMIT; i++) statuses.push(await outcome(await tightCall("/v1/webhooks", ann.token, { url: hookUrl(`rl-create-${i}`) })));
    const refused = await tightCall("/v1/webhooks", ann.token, { url: hookUrl("rl-create-refused") });
    const got = [...statuses, await outcome(refused)].join(", ");
    const expected = [...Array(TIGHT_LIMIT).fill("201"), "429 rate-limited"].join(", ");
    recordAudit({ case: `POST /v1/webhooks × ${TIGHT_LIMIT + 1} in one window (limit ${TIGHT_LIMIT})`, expected, got, ok: got === expected });
    expect(got).toBe(expected);
    await expectRateLimited(refused);
    const stored = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, ann.userId));
    expect(stored.map((e) => e.url).sort()).toEqual(Array.from({ length: TIGHT_LIMIT }, (_, i) => hookUrl(`rl-create-${i}`)).sort());
  });

  it(`test: ${TIGHT_LIMIT} per window per user whatever the endpoint, then 429; the refused one queues nothing; another user is unaffected`, async () => {
    const [a, b] = await Promise.all([createEndpoint(ben, { url: hookUrl("rl-test-a") }), createEndpoint(ben, { url: hookUrl("rl-test-b") })]);
    await startOfWindow();
    const statuses: string[] = [];
    // Alternating endpoints: the budget is the user's, not the endpoint's.
    for (let i = 0; i < TIGHT_LIMIT; i++) statuses.push(await outcome(await tightCall(`/v1/webhooks/${(i % 2 ? b : a).webhook.id}/test`, ben.token)));
    const refused = await tightCall(`/v1/webhooks/${b.webhook.id}/test`, ben.token);
    const got = [...statuses, await outcome(refused)].join(", ");
    const expected = [...Array(TIGHT_LIMIT).fill("202"), "429 rate-limited"].join(", ");
    recordAudit({ case: `POST /v1/webhooks/{id}/test × ${TIGHT_LIMIT + 1} in one window, two endpoints (limit ${TIGHT_LIMIT})`, expected, got, ok: got === expected });
    expect(got).toBe(expected);
    await expectRateLimited(refused);
    expect((await rowsOf(a.webhook.id)).length + (await rowsOf(b.webhook.id)).length).toBe(TIGHT_LIMIT);

    const other = await signUp("flood-other");
    const theirs = await createEndpoint(other, { url: hookUrl("rl-test-other") });
    expect((await tightCall(`/v1/webhooks/${theirs.webhook.id}/test`, other.token)).status).toBe(202);
  });

  it(`rotate-secret: ${TIGHT_LIMIT} per window, then 429 and the secret stays; its budget is not the test budget`, async () => {
    const user = await signUp("flood-rotate");
    const endpoint = await createEndpoint(user, { url: hookUrl("rl-rotate") });
    const path = `/v1/webhooks/${endpoint.webhook.id}/rotate-secret`;
    await startOfWindow();
    // Exhaust the test budget first: rotation still works.
    for (let i = 0; i <= TIGHT_LIMIT; i++) await (await tightCall(`/v1/webhooks/${endpoint.webhook.id}/test`, user.token)).body?.cancel();
    const statuses: string[] = [];
    for (let i = 0; i < TIGHT_LIMIT; i++) statuses.push(await outcome(await tightCall(path, user.token)));
    const [before] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.webhook.id));
    const refused = await tightCall(path, user.token);
    const got = [...statuses, await outcome(refused)].join(", ");
    const expected = [...Array(TIGHT_LIMIT).fill("200"), "429 rate-limited"].join(", ");
    recordAudit({ case: `POST /v1/webhooks/{id}/rotate-secret × ${TIGHT_LIMIT + 1} in one window (limit ${TIGHT_LIMIT})`, expected, got, ok: got === expected });
    expect(got).toBe(expected);
    await expectRateLimited(refused);
    const [after] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.webhook.id));
    expect(after!.secretCiphertext).toBe(before!.secretCiphertext);
  });

  it("the suite's wrangler.toml provides the binding; without it the routes answer 500, never an unlimited pass", async () => {
    expect(await testEnv.WEBHOOK_RATE_LIMITER!.limit({ key: `probe:${crypto.randomUUID()}` })).toEqual({ success: true });
    const { WEBHOOK_RATE_LIMITER: _w, ...bare } = testEnv;
    const user = await signUp("flood-bare");
    const request = new Request(BASE + "/v1/webhooks", {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ url: hookUrl("bare") }),
    });
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    let res: Response;
    try {
      res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], bare as Env, createExecutionContext());
    } finally {
      quiet.mockRestore();
    }
    expect(res.status).toBe(500);
    expect(((await res.json()) as { type: string }).type).toBe("https://vidsnap.dev/problems/server-misconfigured");
  });
});

describe("test pings get exactly one try", () => {
  it("a failed ping is tried once and ends failed, with no retry scheduled; a real event is still retried", async () => {
    const user = await signUp("flood-ping-once");
    const endpoint = await createEndpoint(user, { url: hookUrl("ping-once") });
    await plan("ping-once", [], 500);
    const { deps, sent } = capturingDeps();
    const queued = await sendTestEvent(deps, user.userId, endpoint.webhook.id);
    expect(sent).toHaveLength(1);
    const message = recordingMessage(sent[0]);
    await consumeWebhook(message as unknown as Message<unknown>, deps);
    const row = await deliveryRow(queued.id);
    const got = `${message.outcome === "ack" ? "acked" : "retried"}, ${row.status}, tries ${row.attemptsMade}, next ${row.nextAttemptAt ? "scheduled" : "none"}`;
    recordAudit({ case: "ping to an endpoint answering 500", expected: "acked, failed, tries 1, next none", got, ok: got === "acked, failed, tries 1, next none" });
    expect(message.outcome).toBe("ack");
    expect(row).toMatchObject({ status: "failed", attemptsMade: 1, lastResponseStatus: 500, lastError: "HTTP 500", nextAttemptAt: null, lockedUntil: null });
    expect(row.attemptLog).toHaveLength(1);
    // A duplicate of the message sends nothing more.
    const again = await runQueue("vidsnap-webhooks", [sent[0]]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(again.retryMessages).toEqual([]);
    expect(await received("ping-once")).toHaveLength(1);

    // Real events keep their retries.
    const video = await finishVideo(user);
    const real = recordingMessage(video.sent[0]);
    await consumeWebhook(real as unknown as Message<unknown>, deps);
    expect(real.outcome).toEqual({ retry: { delaySeconds: 30 } });
    expect(await deliveryRow(video.rows[0]!.id)).toMatchObject({ status: "pending", attemptsMade: 1 });
    expect(WEBHOOK_MAX_ATTEMPTS).toBeGreaterThan(1);
  });

  it("20 test calls against a failing endpoint make 20 POSTs through the real queue, none retried", async () => {
    const user = await signUp("flood-ping-20");
    const endpoint = await createEndpoint(user, { url: hookUrl("ping-20") });
    await plan("ping-20", [], 503);
    for (let i = 0; i < 20; i++) {
      const res = await api(`/v1/webhooks/${endpoint.webhook.id}/test`, { method: "POST", token: user.token });
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
    // Once every ping has had its first try, count what is left to come.
    const all = await eventually(async () => {
      const page = await deliveries(user, endpoint.webhook.id, "?limit=100");
      return page.data.length === 20 && page.data.every((d) => d.attemptsMade >= 1 && d.lastError !== null) ? page.data : undefined;
    }, 15_000);
    const posts = (await received("ping-20")).length;
    const failed = all.filter((d: WebhookDelivery) => d.status === "failed").length;
    const retried = all.filter((d: WebhookDelivery) => d.attemptsMade !== 1 || d.nextAttemptAt !== null).length;
    const got = `${posts} POSTs, ${failed} failed, ${retried} with another try`;
    const expected = "20 POSTs, 20 failed, 0 with another try";
    recordAudit({ case: "20 × POST /v1/webhooks/{id}/test, endpoint answering 503", expected, got, ok: got === expected });
    expect(got).toBe(expected);
    expect((await deliveries(user, endpoint.webhook.id, "?status=pending")).data).toEqual([]);
  });
});

describe(`at most ${MAX_PENDING_DELIVERIES_PER_ENDPOINT} waiting deliveries per endpoint`, () => {
  it("at the cap a new event is recorded failed and not queued; another endpoint of the user is unaffected", async () => {
    const user = await signUp("flood-cap");
    const dead = await createEndpoint(user, { url: hookUrl("cap-dead") });
    const alive = await createEndpoint(user, { url: hookUrl("cap-alive") });
    await fillPending(user, dead.webhook.id, MAX_PENDING_DELIVERIES_PER_ENDPOINT - 1);

    // The 100th waiting delivery is still accepted…
    const last = await finishVideo(user);
    expect(last.sent.map((m) => m.payload.endpointId).sort()).toEqual([dead.webhook.id, alive.webhook.id].sort());
    // …the next is not.
    const over = await finishVideo(user);
    const deadRow = over.rows.find((r) => r.endpointId === dead.webhook.id)!;
    const aliveRow = over.rows.find((r) => r.endpointId === alive.webhook.id)!;
    const got = `${deadRow.status} (${deadRow.lastError}), queued ${over.sent.filter((m) => m.payload.endpointId === dead.webhook.id).length}`;
    const expected = `failed (${PENDING_CAP_ERROR}), queued 0`;
    recordAudit({
      case: `video.ready for an endpoint with ${MAX_PENDING_DELIVERIES_PER_ENDPOINT} deliveries waiting`,
      expected,
      got,
      ok: got === expected,
    });
    expect(got).toBe(expected);
    expect(deadRow).toMatchObject({ attemptsMade: 0, nextAttemptAt: null });
    expect(aliveRow).toMatchObject({ status: "pending", lastError: null });
    expect(over.sent.map((m) => m.payload.deliveryId)).toEqual([aliveRow.id]);
    const waiting = (await rowsOf(dead.webhook.id)).filter((r) => r.status === "pending");
    expect(waiting).toHaveLength(MAX_PENDING_DELIVERIES_PER_ENDPOINT);
    // Visible to the owner in the delivery log.
    const [newest] = (await deliveries(user, dead.webhook.id, "?status=failed")).data;
    expect(newest).toMatchObject({ id: deadRow.id, status: "failed", lastError: PENDING_CAP_ERROR, attempts: [] });
  });

  it("a test ping at the cap answers 202 with a failed delivery and sends nothing", async () => {
    const user = await signUp("flood-cap-ping");
    const endpoint = await createEndpoint(user, { url: hookUrl("cap-ping") });
    await fillPending(user, endpoint.webhook.id, MAX_PENDING_DELIVERIES_PER_ENDPOINT);
    const res = await api(`/v1/webhooks/${endpoint.webhook.id}/test`, { method: "POST", token: user.token });
    const { delivery } = (await res.json()) as { delivery: WebhookDelivery };
    // Give a wrongly queued ping time to arrive before counting.
    await new Promise((r) => setTimeout(r, 300));
    const got = `${res.status} ${delivery.status}, ${(await received("cap-ping")).length} sent`;
    const expected = "202 failed, 0 sent";
    recordAudit({ case: `POST /v1/webhooks/{id}/test with ${MAX_PENDING_DELIVERIES_PER_ENDPOINT} deliveries waiting`, expected, got, ok: got === expected });
    expect(got).toBe(expected);
    expect(delivery).toMatchObject({ eventType: "ping", status: "failed", attemptsMade: 0, lastError: PENDING_CAP_ERROR });
  });

  it("waiting rows older than a day (stuck) do not count", async () => {
    const user = await signUp("flood-cap-stale");
    const endpoint = await createEndpoint(user, { url: hookUrl("cap-stale") });
    await fillPending(user, endpoint.webhook.id, MAX_PENDING_DELIVERIES_PER_ENDPOINT, new Date(Date.now() - PENDING_CAP_WINDOW_MS - 60_000));
    const video = await finishVideo(user);
    expect(video.rows[0]).toMatchObject({ status: "pending", lastError: null });
    expect(video.sent).toHaveLength(1);
  });
});
