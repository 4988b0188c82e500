/**
 * Webhooks: the endpoint routes (validation, SSRF rules, limits, ownership), and deliveries end to end:
 * processor events through the events consumer → real WEBHOOK_QUEUE → the webhook consumer → a real HTTP
 * receiver on loopback (support/webhook-receiver.ts), whose requests are verified with the exact code
 * docs/webhooks.md quotes (docs/examples/verify-webhook.ts). Retries, exhaustion, duplicates and the DLQ are
 * driven by calling the Worker's `queue()` with message batches whose messages were captured from a
 * stand-in producer, so the real queue does not race the test.
 */
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import verifierSource from "../../docs/examples/verify-webhook.ts?raw";
import webhooksDoc from "../../docs/webhooks.md?raw";
import { TOLERANCE_SECONDS, verifyWebhook } from "../../docs/examples/verify-webhook.ts";
import type { Video, WebhookDelivery, WebhookEndpoint, WebhookWithSecret } from "../../schema/api.ts";
import { videos, webhookDeliveries, webhookEndpoints } from "../../schema/db.ts";
import { checkOutgoingUrl } from "../../runtime/outgoing-url.ts";
import {
  WEBHOOK_MAX_ATTEMPTS,
  webhookRetryDelaySeconds,
} from "../../edge-api/src/services/webhooks/deliver-webhook.ts";
import { enqueueVideoWebhooks, videoEventId } from "../../edge-api/src/services/webhooks/enqueue-video-event.ts";
import { consumeWebhook } from "../../edge-api/src/queues/webhooks-consumer.ts";
import { DEAD_LETTERED_ERROR } from "../../edge-api/src/services/webhooks/fail-dead-lettered-delivery.ts";
import { api, db, eventually, insertVideo, processorEvent, runQueue, signUp, recordingMessage } from "./support/env.ts";
import { capturingDeps, createEndpoint, deliveries, deliveryRow, hookUrl, plan, received, type User } from "./support/webhooks.ts";

const videoRow = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;

/** A video of `user` finished with SUCCESS (or ERROR), its row, and the deliveries' messages, captured. */
async function finishedVideoMessages(user: User, outcome: "SUCCESS" | "ERROR" = "SUCCESS") {
  const id = await insertVideo(user.userId);
  await db
    .update(videos)
    .set(
      outcome === "SUCCESS"
        ? { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", imageCount: 3, zipSizeBytes: 999, progress: 1, completedAt: new Date() }
        : { status: "VIDEO_IMAGE_EXTRACTION_ERROR", errorMessage: "Broken.", errorDescription: "x", completedAt: new Date() },
    )
    .where(eq(videos.id, id));
  const { deps, sent } = capturingDeps();
  await enqueueVideoWebhooks(deps, await videoRow(id));
  return { videoId: id, sent, deps };
}

describe("webhook URL rules (pure function)", () => {
  it("outside local: https only, default port, no credentials, no private/loopback/link-local literals or localhost", () => {
    const refused = [
      "http://example.com/hook",
      "https://example.com:8443/hook",
      "https://user:pw@example.com/hook",
      "https://127.0.0.1/hook",
      "https://2130706433/hook", // 127.0.0.1 written as a number
      "https://10.0.0.5/",
      "https://172.16.3.4/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://[::1]/",
      "https://[fe80::1]/",
      "https://[fd00::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://localhost/",
      "https://api.localhost/",
      "https://intranet/",
      "not a url",
      `https://example.com/${"a".repeat(2048)}`,
    ];
    for (const url of refused) {
      for (const environment of ["staging", "production"]) {
        expect(checkOutgoingUrl(url, environment), `${url} (${environment})`).toMatchObject({ ok: false });
      }
    }
    expect(checkOutgoingUrl("https://hooks.example.com/vidsnap?x=1#frag", "production")).toEqual({
      ok: true,
      url: "https://hooks.example.com/vidsnap?x=1",
    });
    expect(checkOutgoingUrl("https://8.8.8.8/hook", "production")).toMatchObject({ ok: true });
    expect(checkOutgoingUrl("https://[2606:4700::1111]/hook", "production")).toMatchObject({ ok: true });
    expect(checkOutgoingUrl("http://example.com/", "production")).toEqual({ ok: false, reason: "must use https" });
    expect(checkOutgoingUrl("https://169.254.169.254/", "production")).toEqual({
      ok: false,
      reason: "must not point to cloud metadata addresses",
    });
  });

  it("locally: http and loopback with a port are allowed, private ranges and credentials still refused", () => {
    expect(checkOutgoingUrl("http://127.0.0.1:9999/hooks/x", "local")).toMatchObject({ ok: true });
    expect(checkOutgoingUrl("http://localhost:9999/", "local")).toMatchObject({ ok: true });
    expect(checkOutgoingUrl("http://[::1]:9999/", "local")).toMatchObject({ ok: true });
    expect(checkOutgoingUrl("http://10.1.2.3/", "local")).toMatchObject({ ok: false });
    expect(checkOutgoingUrl("http://169.254.169.254/", "local")).toMatchObject({ ok: false });
    expect(checkOutgoingUrl("http://u:p@127.0.0.1:9999/", "local")).toMatchObject({ ok: false });
    expect(checkOutgoingUrl("ftp://127.0.0.1/", "local")).toMatchObject({ ok: false });
  });
});

describe("webhook endpoints API", () => {
  let alice: User;
  let bob: User;
  beforeAll(async () => {
    alice = await signUp("hooks-alice");
    bob = await signUp("hooks-bob");
  });

  it("create → list → get → delete; the secret is answered once and stored encrypted", async () => {
    const created = await createEndpoint(alice, { url: hookUrl("crud"), description: "ci receiver" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.webhook).toMatchObject({
      url: hookUrl("crud"),
      description: "ci receiver",
      // Without `events`: every type, transcodes included.
      events: ["video.ready", "video.failed", "video.import_failed", "video.generation_failed", "transcode.ready", "transcode.failed"],
      enabled: true,
    });
    const id = created.webhook.id;

    const [stored] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    expect(stored!.secretCiphertext).toMatch(/^v1\./);
    expect(stored!.secretCiphertext).not.toContain(created.secret.slice(6));

    const list = await api("/v1/webhooks", { token: alice.token });
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(listText).not.toContain(created.secret);
    expect((JSON.parse(listText) as { data: WebhookEndpoint[] }).data).toContainEqual(created.webhook);

    const one = await api(`/v1/webhooks/${id}`, { token: alice.token });
    expect(one.status).toBe(200);
    const oneText = await one.text();
    expect(oneText).not.toContain(created.secret);
    expect(JSON.parse(oneText)).toEqual({ webhook: created.webhook });

    expect((await api(`/v1/webhooks/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect((await api(`/v1/webhooks/${id}`, { token: alice.token })).status).toBe(404);
    expect((await api(`/v1/webhooks/${id}`, { method: "DELETE", token: alice.token })).status).toBe(404);
  });

  it("subscribes to chosen events only; refuses bad bodies and SSRF targets with 400 problems", async () => {
    const failedOnly = await createEndpoint(alice, { url: hookUrl("events"), events: ["video.failed"] });
    expect(failedOnly.webhook.events).toEqual(["video.failed"]);

    const bad: [unknown, string][] = [
      [{}, "url"],
      [{ url: hookUrl("x"), events: ["video.deleted"] }, "events.0"],
      [{ url: hookUrl("x"), events: [] }, "events"],
      [{ url: "ftp://127.0.0.1/x" }, "url"],
      [{ url: "http://10.0.0.1/hook" }, "url"],
      [{ url: "http://169.254.169.254/latest/meta-data" }, "url"],
      [{ url: "http://user:pw@127.0.0.1/hook" }, "url"],
      [{ url: "http://[fe80::1]/hook" }, "url"],
      [{ url: "/relative" }, "url"],
    ];
    for (const [json, path] of bad) {
      const res = await api("/v1/webhooks", { method: "POST", token: alice.token, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as { type: string; errors: { path: string }[] };
      expect(problem.type).toBe("https://vidsnap.dev/problems/validation");
      expect(problem.errors.map((e) => e.path)).toContain(path);
    }
    expect((await api("/v1/webhooks", { method: "POST", json: { url: hookUrl("x") } })).status).toBe(401);
  });

  it("another user's endpoint answers 404 on every route and is not listed", async () => {
    const mine = await createEndpoint(alice, { url: hookUrl("owner") });
    const id = mine.webhook.id;
    for (const [method, path] of [
      ["GET", `/v1/webhooks/${id}`],
      ["DELETE", `/v1/webhooks/${id}`],
      ["GET", `/v1/webhooks/${id}/deliveries`],
      ["POST", `/v1/webhooks/${id}/test`],
      ["POST", `/v1/webhooks/${id}/rotate-secret`],
    ] as const) {
      const res = await api(path, { method, token: bob.token });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const list = (await (await api("/v1/webhooks", { token: bob.token })).json()) as { data: WebhookEndpoint[] };
    expect(list.data.map((w) => w.id)).not.toContain(id);
    expect((await api(`/v1/webhooks/${id}`, { token: alice.token })).status).toBe(200);
  });

  it("allows at most 10 endpoints per user (409 beyond)", async () => {
    const carol = await signUp("hooks-carol");
    for (let i = 0; i < 10; i++) await createEndpoint(carol, { url: hookUrl(`limit-${i}`) });
    const res = await api("/v1/webhooks", { method: "POST", token: carol.token, json: { url: hookUrl("limit-10") } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { type: string }).type).toBe("https://vidsnap.dev/problems/conflict");
    const list = (await (await api("/v1/webhooks", { token: carol.token })).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(10);
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/v1/webhooks"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/webhooks/{id}"] ?? {}).sort()).toEqual(["delete", "get"]);
    expect(doc.paths["/v1/webhooks/{id}/deliveries"]).toHaveProperty("get");
    expect(doc.paths["/v1/webhooks/{id}/test"]).toHaveProperty("post");
    expect(doc.paths["/v1/webhooks/{id}/rotate-secret"]).toHaveProperty("post");
  });
});

describe("webhook deliveries", () => {
  let owner: User;
  beforeAll(async () => {
    owner = await signUp("hooks-owner");
  });

  it("a succeeded video → one signed video.ready POST, verified with the documented snippet", async () => {
    const all = await createEndpoint(owner, { url: hookUrl("ready") });
    const failedOnly = await createEndpoint(owner, { url: hookUrl("ready-failed-only"), events: ["video.failed"] });
    const id = await insertVideo(owner.userId, { filename: "party.mp4" });

    const result = await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 1 }),
    ]);
    expect(result.retryMessages).toEqual([]);

    const [request] = await eventually(async () => {
      const got = await received("ready");
      return got.length ? got : undefined;
    });
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toBe("vidsnap-webhooks/1");
    const eventId = await videoEventId(id, 1, "video.ready");
    expect(request!.headers["vidsnap-event-id"]).toBe(eventId);
    const signature = request!.headers["vidsnap-signature"]!;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    // The receiver's check, exactly as docs/webhooks.md shows it.
    expect(verifyWebhook(request!.body, signature, all.secret)).toBe(true);
    expect(verifyWebhook(request!.body, signature, failedOnly.secret)).toBe(false);
    expect(verifyWebhook(request!.body.replace("party.mp4", "other.mp4"), signature, all.secret)).toBe(false);
    expect(verifyWebhook(request!.body, signature.replace(/v1=./, (m) => (m.endsWith("0") ? "v1=1" : "v1=0")), all.secret)).toBe(false);
    const t = Number(/t=(\d+)/.exec(signature)![1]);
    expect(verifyWebhook(request!.body, signature, all.secret, t + TOLERANCE_SECONDS + 1)).toBe(false);
    expect(verifyWebhook(request!.body, signature, all.secret, t + TOLERANCE_SECONDS - 1)).toBe(true);
    expect(verifyWebhook(request!.body, undefined, all.secret)).toBe(false);

    const body = JSON.parse(request!.body) as { id: string; type: string; createdAt: string; data: { video: Video } };
    expect(body.id).toBe(eventId);
    expect(body.type).toBe("video.ready");
    expect(Number.isNaN(Date.parse(body.createdAt))).toBe(false);
    const current = (await (await api(`/v1/videos/${id}`, { token: owner.token })).json()) as { video: Video };
    expect(body.data.video).toEqual(current.video);
    expect(body.data.video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", imageCount: 2, filename: "party.mp4" });

    const log = await eventually(async () => {
      const page = await deliveries(owner, all.webhook.id);
      return page.data[0]?.status === "succeeded" ? page : undefined;
    });
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({
      webhookId: all.webhook.id,
      eventId,
      eventType: "video.ready",
      videoId: id,
      videoAttempt: 1,
      status: "succeeded",
      attemptsMade: 1,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(log.data[0]!.deliveredAt).not.toBeNull();
    expect(log.data[0]!.attempts).toEqual([
      expect.objectContaining({ responseStatus: 200, error: null }),
    ]);
    // Not subscribed to video.ready: nothing sent, nothing logged.
    expect(await received("ready-failed-only")).toEqual([]);
    expect((await deliveries(owner, failedOnly.webhook.id)).data).toEqual([]);

    // The same SUCCESS event redelivered: no second delivery, no second POST.
    await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 1 }),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received("ready")).toHaveLength(1);
    expect((await deliveries(owner, all.webhook.id)).data).toHaveLength(1);
  });

  it("a failed video → video.failed to every endpoint subscribed to it", async () => {
    const failedOnly = await createEndpoint(owner, { url: hookUrl("failed-a"), events: ["video.failed"] });
    const readyOnly = await createEndpoint(owner, { url: hookUrl("failed-b"), events: ["video.ready"] });
    const id = await insertVideo(owner.userId);
    await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId: id, userId: owner.userId, attempt: 1 }),
    ]);
    const [request] = await eventually(async () => {
      const got = await received("failed-a");
      return got.length ? got : undefined;
    });
    expect(verifyWebhook(request!.body, request!.headers["vidsnap-signature"], failedOnly.secret)).toBe(true);
    const body = JSON.parse(request!.body) as { type: string; data: { video: Video } };
    expect(body.type).toBe("video.failed");
    expect(body.data.video).toMatchObject({
      id,
      status: "VIDEO_IMAGE_EXTRACTION_ERROR",
      errorMessage: "The file is not a video.",
      errorDescription: "ffprobe failed",
    });
    expect(await received("failed-b")).toEqual([]);
    expect((await deliveries(owner, readyOnly.webhook.id)).data).toEqual([]);
  });

  it("a 500 is retried with backoff; the next success is recorded with both tries in the log", async () => {
    const user = await signUp("hooks-retry");
    const endpoint = await createEndpoint(user, { url: hookUrl("retry") });
    await plan("retry", [500]);
    const { sent } = await finishedVideoMessages(user);
    expect(sent).toHaveLength(1);
    const message = sent[0]!;

    const first = recordingMessage(message, 1);
    // Structured logs of the try, at debug level: they name the delivery, never the secret.
    const lines: string[] = [];
    const spies = (["log", "warn", "error"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((line: unknown) => void lines.push(String(line))),
    );
    try {
      await consumeWebhook(first as unknown as Message<unknown>, capturingDeps("debug").deps);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(first.outcome).toEqual({ retry: { delaySeconds: 30 } });
    const tryLog = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "webhook try failed; will retry");
    expect(tryLog).toMatchObject({ level: "info", deliveryId: message.payload.deliveryId, responseStatus: 500, delaySeconds: 30 });
    expect(lines.join("\n")).not.toContain(endpoint.secret);
    expect(lines.join("\n")).not.toContain(endpoint.secret.slice(6));
    const afterFirst = await deliveryRow(message.payload.deliveryId);
    expect(afterFirst).toMatchObject({ status: "pending", attemptsMade: 1, lastResponseStatus: 500, lastError: "HTTP 500", lockedUntil: null });
    const due = afterFirst.nextAttemptAt!.getTime() - Date.now();
    expect(due).toBeGreaterThan(25_000);
    expect(due).toBeLessThanOrEqual(30_000);

    const second = await runQueue("vidsnap-webhooks", [message], { attempts: 2 });
    expect(second.retryMessages).toEqual([]);
    expect(second.explicitAcks).toHaveLength(1);
    const requests = await received("retry");
    expect(requests).toHaveLength(2);
    for (const r of requests) expect(verifyWebhook(r.body, r.headers["vidsnap-signature"], endpoint.secret)).toBe(true);
    expect(requests[0]!.body).toBe(requests[1]!.body);
    expect(requests[1]!.headers["vidsnap-event-id"]).toBe(message.payload.eventId);

    const [delivery] = (await deliveries(user, endpoint.webhook.id)).data;
    expect(delivery).toMatchObject({ status: "succeeded", attemptsMade: 2, lastResponseStatus: 200, lastError: null, nextAttemptAt: null });
    expect(delivery!.attempts.map((a) => [a.responseStatus, a.error])).toEqual([
      [500, "HTTP 500"],
      [200, null],
    ]);
  });

  it(`an endpoint that keeps failing gets ${WEBHOOK_MAX_ATTEMPTS} tries with growing delays, then the delivery is failed`, async () => {
    const user = await signUp("hooks-exhaust");
    const endpoint = await createEndpoint(user, { url: hookUrl("exhaust") });
    await plan("exhaust", [], 503);
    const { sent } = await finishedVideoMessages(user, "ERROR");
    const message = sent[0]!;
    const delays: number[] = [];
    const { deps } = capturingDeps();
    for (let tryNumber = 1; tryNumber <= WEBHOOK_MAX_ATTEMPTS; tryNumber++) {
      const delivery = recordingMessage(message, tryNumber);
      await consumeWebhook(delivery as unknown as Message<unknown>, deps);
      if (tryNumber < WEBHOOK_MAX_ATTEMPTS) {
        expect(delivery.outcome).toMatchObject({ retry: {} });
        delays.push((delivery.outcome as { retry: { delaySeconds: number } }).retry.delaySeconds);
      } else {
        expect(delivery.outcome).toBe("ack");
      }
    }
    expect(delays).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    expect(delays).toEqual(Array.from({ length: WEBHOOK_MAX_ATTEMPTS - 1 }, (_, i) => webhookRetryDelaySeconds(i + 1)));
    expect(await received("exhaust")).toHaveLength(WEBHOOK_MAX_ATTEMPTS);

    const [delivery] = (await deliveries(user, endpoint.webhook.id, "?status=failed")).data;
    expect(delivery).toMatchObject({ status: "failed", attemptsMade: WEBHOOK_MAX_ATTEMPTS, lastResponseStatus: 503, lastError: "HTTP 503", nextAttemptAt: null, deliveredAt: null });
    expect(delivery!.attempts).toHaveLength(WEBHOOK_MAX_ATTEMPTS);
    expect((await deliveries(user, endpoint.webhook.id, "?status=succeeded")).data).toEqual([]);

    // A late duplicate of the message sends nothing more.
    const late = await runQueue("vidsnap-webhooks", [message], { attempts: 1 });
    expect(late.explicitAcks).toHaveLength(1);
    expect(await received("exhaust")).toHaveLength(WEBHOOK_MAX_ATTEMPTS);
  });

  it("duplicate events and duplicate messages send once: one row, one POST, concurrent copies included", async () => {
    const user = await signUp("hooks-dup");
    await createEndpoint(user, { url: hookUrl("dup") });
    const { videoId, sent, deps } = await finishedVideoMessages(user);
    // The same event enqueued again before any try: still one row; its message is sent again (harmless).
    await enqueueVideoWebhooks(deps, await videoRow(videoId));
    const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.videoId, videoId));
    expect(rows).toHaveLength(1);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual(sent[1]);

    // Both copies at the same time: the claim lets one through.
    const results = await Promise.all([
      runQueue("vidsnap-webhooks", [sent[0]]),
      runQueue("vidsnap-webhooks", [sent[1]]),
    ]);
    for (const r of results) expect(r.explicitAcks).toHaveLength(1);
    // And once more after the success, in a batch of two.
    const again = await runQueue("vidsnap-webhooks", [sent[0], sent[1]]);
    expect(again.explicitAcks).toHaveLength(2);
    expect(await received("dup")).toHaveLength(1);
    expect(await deliveryRow(rows[0]!.id)).toMatchObject({ status: "succeeded", attemptsMade: 1 });

    // After a success the same event queues nothing new.
    await enqueueVideoWebhooks(deps, await videoRow(videoId));
    expect(sent).toHaveLength(2);
  });

  it("a redirect is a failed try (not followed); a dead-lettered message fails its pending delivery", async () => {
    const user = await signUp("hooks-redirect");
    const endpoint = await createEndpoint(user, { url: hookUrl("redirect") });
    await plan("redirect", [302]);
    const { sent } = await finishedVideoMessages(user);
    const message = sent[0]!;
    const result = await runQueue("vidsnap-webhooks", [message]);
    expect(result.retryMessages).toHaveLength(1);
    expect(await deliveryRow(message.payload.deliveryId)).toMatchObject({
      status: "pending",
      lastResponseStatus: 302,
      lastError: "HTTP 302: redirects are not followed",
    });
    const requests = await received("redirect");
    expect(requests.map((r) => r.path)).toEqual(["/hooks/redirect"]);

    const dead = await runQueue("vidsnap-webhooks-dlq", [message]);
    expect(dead.explicitAcks).toHaveLength(1);
    const [delivery] = (await deliveries(user, endpoint.webhook.id)).data;
    expect(delivery).toMatchObject({ status: "failed", lastError: DEAD_LETTERED_ERROR, attemptsMade: 1 });
    // Dead letters never resurrect a finished delivery.
    await runQueue("vidsnap-webhooks", [message]);
    expect((await received("redirect")).length).toBe(1);

    // Nobody listening (a closed port): a failed try without a status, retried.
    await db.update(webhookEndpoints).set({ url: "http://127.0.0.1:1/hooks/closed" }).where(eq(webhookEndpoints.id, endpoint.webhook.id));
    const next = await finishedVideoMessages(user);
    const refused = await runQueue("vidsnap-webhooks", [next.sent[0]]);
    expect(refused.retryMessages).toHaveLength(1);
    const row = await deliveryRow(next.sent[0]!.payload.deliveryId);
    expect(row).toMatchObject({ status: "pending", attemptsMade: 1, lastResponseStatus: null });
    expect(row.lastError).toMatch(/^request failed: /);
  });

  it("a disabled endpoint gets nothing; an unreadable secret fails the delivery without sending", async () => {
    const user = await signUp("hooks-disabled");
    const disabled = await createEndpoint(user, { url: hookUrl("disabled") });
    await db.update(webhookEndpoints).set({ enabled: false }).where(eq(webhookEndpoints.id, disabled.webhook.id));
    const none = await finishedVideoMessages(user);
    expect(none.sent).toEqual([]);

    const broken = await createEndpoint(user, { url: hookUrl("broken-secret") });
    // The ciphertext of another endpoint: AES-GCM's associated data (the endpoint id) refuses it.
    const [other] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, disabled.webhook.id));
    await db
      .update(webhookEndpoints)
      .set({ secretCiphertext: other!.secretCiphertext })
      .where(and(eq(webhookEndpoints.id, broken.webhook.id), eq(webhookEndpoints.userId, user.userId)));
    const { sent } = await finishedVideoMessages(user);
    expect(sent).toHaveLength(1);
    const result = await runQueue("vidsnap-webhooks", [sent[0]]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await received("broken-secret")).toEqual([]);
    expect(await deliveryRow(sent[0]!.payload.deliveryId)).toMatchObject({ status: "failed", attemptsMade: 1 });
    expect((await deliveryRow(sent[0]!.payload.deliveryId)).lastError).toMatch(/signing secret is unreadable/);
  });

  it("test ping, secret rotation and the paginated deliveries log", async () => {
    const user = await signUp("hooks-ping");
    const endpoint = await createEndpoint(user, { url: hookUrl("ping") });
    const ping = await api(`/v1/webhooks/${endpoint.webhook.id}/test`, { method: "POST", token: user.token });
    expect(ping.status).toBe(202);
    const { delivery } = (await ping.json()) as { delivery: WebhookDelivery };
    expect(delivery).toMatchObject({ eventType: "ping", status: "pending", videoId: null, attemptsMade: 0, attempts: [] });
    const [first] = await eventually(async () => {
      const got = await received("ping");
      return got.length ? got : undefined;
    });
    expect(JSON.parse(first!.body)).toMatchObject({ id: delivery.eventId, type: "ping", data: { webhookId: endpoint.webhook.id } });
    expect(verifyWebhook(first!.body, first!.headers["vidsnap-signature"], endpoint.secret)).toBe(true);

    const rotated = await api(`/v1/webhooks/${endpoint.webhook.id}/rotate-secret`, { method: "POST", token: user.token });
    expect(rotated.status).toBe(200);
    const { secret } = (await rotated.json()) as WebhookWithSecret;
    expect(secret).not.toBe(endpoint.secret);
    for (let i = 0; i < 2; i++) {
      expect((await api(`/v1/webhooks/${endpoint.webhook.id}/test`, { method: "POST", token: user.token })).status).toBe(202);
    }
    const requests = await eventually(async () => {
      const got = await received("ping");
      return got.length === 3 ? got : undefined;
    });
    for (const r of requests.slice(1)) {
      expect(verifyWebhook(r.body, r.headers["vidsnap-signature"], secret)).toBe(true);
      expect(verifyWebhook(r.body, r.headers["vidsnap-signature"], endpoint.secret)).toBe(false);
    }

    await eventually(async () => (await deliveries(user, endpoint.webhook.id, "?status=succeeded")).data.length === 3);
    const page1 = await deliveries(user, endpoint.webhook.id, "?limit=2");
    expect(page1.data).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await deliveries(user, endpoint.webhook.id, `?limit=2&cursor=${page1.nextCursor}`);
    expect(page2.data).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.data, ...page2.data].map((d) => d.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toContain(delivery.id);
    expect(ids[ids.length - 1]).toBe(delivery.id); // newest first: the first ping is last
    expect((await api(`/v1/webhooks/${endpoint.webhook.id}/deliveries?cursor=garbage`, { token: user.token })).status).toBe(400);
    expect((await api(`/v1/webhooks/${endpoint.webhook.id}/deliveries?limit=0`, { token: user.token })).status).toBe(400);

    // Deleting the endpoint deletes its log.
    expect((await api(`/v1/webhooks/${endpoint.webhook.id}`, { method: "DELETE", token: user.token })).status).toBe(204);
    expect(await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.webhook.id))).toEqual([]);
  });

  it("docs/webhooks.md quotes the verifier the tests use, verbatim", () => {
    expect(webhooksDoc).toContain(verifierSource.trim());
  });
});
