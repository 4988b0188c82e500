/**
 * The email consumer end to end inside workerd: queue batch → D1 dedup → Postmark (a real HTTP mock on
 * 127.0.0.1, see tools/stack/postmark-server.ts) → ack/retry per message.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { drizzle } from "drizzle-orm/d1";
import { sql } from "drizzle-orm";
import { emails } from "../../schema/db.ts";
import { retryDelaySeconds } from "../../email-consumer/src/consumer.ts";
import {
  bindings,
  deliver,
  errorMessage,
  jsonLines,
  PostmarkSession,
  rowOf,
  successMessage,
} from "./helpers.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("sending through Postmark", () => {
  it("sends the success email once, with To/From/Subject/link, and marks the row sent", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage({ imageCount: 42, zipSizeBytes: 12_345_678 });

    const { result, ids } = await deliver([{ body: msg }], pm.env());

    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);

    const sent = await pm.accepted();
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(request.headers["x-postmark-server-token"]).toBe(pm.token);
    expect(request.body).toMatchObject({
      From: "vidsnap <no-reply@vidsnap.local>",
      To: '"Ada Lovelace" <ada@example.com>',
      Subject: "Your snapshots of holiday.mp4 are ready",
      MessageStream: "outbound",
      Tag: "snapshot-extraction-success",
      TrackLinks: "None",
      Metadata: { videoId: msg.payload.videoId, attempt: "1", outcome: "success" },
    });
    const text = request.body.TextBody as string;
    const html = request.body.HtmlBody as string;
    expect(text).toContain(msg.payload.downloadUrl);
    expect(text).toContain("42 images");
    expect(text).toContain("12.3 MB");
    expect(text).toContain("2026-05-03 14:00 UTC");
    // In HTML the link is attribute-escaped (& → &amp;) and still one link.
    expect(html).toContain(`href="${msg.payload.downloadUrl.replaceAll("&", "&amp;")}"`);

    const row = await rowOf(msg);
    expect(row).toMatchObject({
      status: "sent",
      providerMessageId: request.messageId,
      outcome: "success",
      attempt: 1,
      to: "ada@example.com",
      subject: "Your snapshots of holiday.mp4 are ready",
      lastError: null,
    });
  });

  it("sends the error email with the error and the retry endpoint", async () => {
    const pm = new PostmarkSession();
    const msg = errorMessage({
      name: undefined,
      to: "grace@example.com",
      errorMessage: "NO_VIDEO_STREAM",
      errorDescription: "The file has no video stream ffprobe can read.",
    });

    const { result, ids } = await deliver([{ body: msg }], pm.env());

    expect(result.explicitAcks).toEqual(ids);
    const [request] = await pm.accepted();
    expect(request?.body).toMatchObject({
      To: "grace@example.com",
      Subject: "We could not extract snapshots from broken.mov",
      Tag: "snapshot-extraction-error",
      MessageStream: "outbound",
    });
    const text = request!.body.TextBody as string;
    expect(text).toContain("NO_VIDEO_STREAM");
    expect(text).toContain("The file has no video stream ffprobe can read.");
    expect(text).toContain(`POST /v1/videos/${msg.payload.videoId}/retry`);
    expect(request!.body.HtmlBody as string).toContain(`POST /v1/videos/${msg.payload.videoId}/retry`);
    expect(await rowOf(msg)).toMatchObject({ status: "sent", outcome: "error", attempt: 2 });
  });

  it("keeps success and error of the same video attempt apart (dedup key includes the outcome)", async () => {
    const pm = new PostmarkSession();
    const ok = successMessage();
    const ko = errorMessage({ videoId: ok.payload.videoId, attempt: ok.payload.attempt });

    await deliver([{ body: ok }], pm.env());
    await deliver([{ body: ko }], pm.env());

    expect(await pm.accepted()).toHaveLength(2);
    expect((await rowOf(ok))?.status).toBe("sent");
    expect((await rowOf(ko))?.status).toBe("sent");
  });

  it("logs structured JSON and never the token", async () => {
    const pm = new PostmarkSession();
    const lines: unknown[][] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args));
    }

    await deliver([{ body: successMessage() }], pm.env());
    await pm.setMode("fail", 500);
    await deliver([{ body: successMessage() }], pm.env());

    expect(lines.length).toBeGreaterThan(0);
    for (const args of lines) expect(args.map(String).join(" ")).not.toContain(pm.token);
    const parsed = jsonLines(lines);
    expect(parsed).toHaveLength(lines.length);
    expect(parsed.map((l) => l.msg)).toEqual(expect.arrayContaining(["email sent", "email send failed, retrying"]));
    for (const line of parsed) expect(line).toHaveProperty("level");
  });
});

describe("deduplication", () => {
  it("a redelivered message is acked without a second Postmark call", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();

    const first = await deliver([{ body: msg, deliveries: 1 }], pm.env());
    const second = await deliver([{ body: msg, deliveries: 1 }], pm.env());
    const third = await deliver([{ body: structuredClone(msg), deliveries: 2 }], pm.env());

    for (const run of [first, second, third]) expect(run.result.explicitAcks).toEqual(run.ids);
    expect(await pm.requests()).toHaveLength(1);
    expect((await rowOf(msg))?.status).toBe("sent");
  });

  it("the same message twice in one batch: one Postmark call, the other copy backs off", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();

    const { result, ids, retries } = await deliver([{ body: msg }, { body: msg }], pm.env());

    expect(await pm.requests()).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    expect(new Set([...result.explicitAcks, ...result.retryMessages.map((m) => m.msgId)])).toEqual(new Set(ids));
    expect(retries).toHaveLength(1);
    expect(retries[0]!.msgId).toBe(result.retryMessages[0]!.msgId);
    expect(retries[0]!.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(retries[0]!.delaySeconds).toBeLessThanOrEqual(30);

    // When the copy comes back, the row is sent: acked, still one call.
    const later = await deliver([{ body: msg, deliveries: 2 }], pm.env());
    expect(later.result.explicitAcks).toEqual(later.ids);
    expect(await pm.requests()).toHaveLength(1);
  });

  it("a fresh `sending` row (a delivery in flight) makes the redelivery retry without sending", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();
    await insertRow(msg, "sending", 0);

    const { result, ids, retries } = await deliver([{ body: msg }], pm.env());

    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    // Backs off for the rest of the lease (10 s timeout + 20 s margin).
    expect(retries[0]!.delaySeconds).toBeGreaterThanOrEqual(29);
    expect(retries[0]!.delaySeconds).toBeLessThanOrEqual(30);
    expect(await pm.requests()).toHaveLength(0);
    expect((await rowOf(msg))?.status).toBe("sending");
  });

  it("a stale `sending` row (the previous try crashed) is taken over and sent once", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();
    await insertRow(msg, "sending", 10 * 60_000);

    const { result, ids } = await deliver([{ body: msg, deliveries: 2 }], pm.env());

    expect(result.explicitAcks).toEqual(ids);
    expect(await pm.accepted()).toHaveLength(1);
    expect(await rowOf(msg)).toMatchObject({ status: "sent" });
  });
});

describe("Postmark failures", () => {
  it("500: row failed, message retried with backoff; the redelivery sends once", async () => {
    const pm = new PostmarkSession();
    await pm.setMode("fail", 500);
    const msg = successMessage();

    const first = await deliver([{ body: msg, deliveries: 1 }], pm.env());

    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages).toEqual([{ msgId: first.ids[0] }]);
    expect(first.retries).toEqual([{ msgId: first.ids[0], delaySeconds: 30 }]);
    const failed = await rowOf(msg);
    expect(failed?.status).toBe("failed");
    expect(failed?.lastError).toMatch(/InternalServerError/);
    expect(await pm.requests()).toHaveLength(1);

    // Still failing on the 3rd delivery: 30·2² s.
    const third = await deliver([{ body: msg, deliveries: 3 }], pm.env());
    expect(third.result.retryMessages).toEqual([{ msgId: third.ids[0] }]);
    expect(third.retries).toEqual([{ msgId: third.ids[0], delaySeconds: 120 }]);

    await pm.setMode("ok");
    const fourth = await deliver([{ body: msg, deliveries: 4 }], pm.env());
    expect(fourth.result.explicitAcks).toEqual(fourth.ids);
    const requests = await pm.requests();
    expect(requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(await rowOf(msg)).toMatchObject({ status: "sent", lastError: null, providerMessageId: requests[2]!.messageId });

    // And once sent, a further redelivery is a no-op.
    const fifth = await deliver([{ body: msg, deliveries: 5 }], pm.env());
    expect(fifth.result.explicitAcks).toEqual(fifth.ids);
    expect(await pm.requests()).toHaveLength(3);
  });

  it("a hanging Postmark times out (POSTMARK_TIMEOUT_SECONDS) and the message is retried", async () => {
    const pm = new PostmarkSession();
    await pm.setMode("hang");
    const msg = errorMessage();

    const started = Date.now();
    const { result, ids, retries } = await deliver([{ body: msg }], pm.env({ POSTMARK_TIMEOUT_SECONDS: "1" }));

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    expect(retries).toEqual([{ msgId: ids[0], delaySeconds: 30 }]);
    expect(await pm.requests()).toHaveLength(1);
    const row = await rowOf(msg);
    expect(row?.status).toBe("failed");
    expect(row?.lastError).toBeTruthy();
  });

  it("401 (bad token) is retried: fixing the secret recovers", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();

    const { result, ids } = await deliver([{ body: msg }], pm.env({ POSTMARK_SERVER_TOKEN: "wrong-token" }));

    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    expect(await rowOf(msg)).toMatchObject({ status: "failed" });
    expect((await rowOf(msg))?.lastError).toMatch(/InvalidAPIKeyError/);
  });

  it("422 (Postmark will never accept it) marks the row failed and acks: no pointless retries", async () => {
    const pm = new PostmarkSession();
    await pm.setMode("fail", 422);
    const msg = successMessage();

    const { result, ids } = await deliver([{ body: msg }], pm.env());

    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(await rowOf(msg)).toMatchObject({ status: "failed" });
  });

  it("backoff is 30·2^(deliveries-1) seconds, capped at 15 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    expect(retryDelaySeconds(0)).toBe(30);
    expect(retryDelaySeconds(Number.NaN)).toBe(30);
  });
});

describe("invalid messages", () => {
  const valid = successMessage();
  const cases: [string, unknown][] = [
    ["not JSON-shaped", "hello"],
    ["null", null],
    ["unknown type", { ...valid, type: "MSG_SOMETHING_ELSE" }],
    ["wrong target", { ...valid, target: "VIDEO_API_SERVICE" }],
    ["wrong sender", { ...valid, sender: "EMAIL_SERVICE" }],
    ["extra envelope key", { ...valid, extra: 1 }],
    ["missing payload field", { ...valid, payload: { ...valid.payload, videoId: undefined } }],
    ["invalid recipient", { ...valid, payload: { ...valid.payload, to: "not-an-email" } }],
    ["javascript: download link", { ...valid, payload: { ...valid.payload, downloadUrl: "javascript:alert(1)" } }],
    ["attempt 0", { ...errorMessage(), payload: { ...errorMessage().payload, attempt: 0 } }],
  ];

  it.each(cases)("%s: acked with an error log, nothing sent, no row", async (_name, body) => {
    const pm = new PostmarkSession();
    const errors: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args));

    const { result, ids } = await deliver([{ body }], pm.env());

    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(await pm.requests()).toHaveLength(0);
    const [line] = jsonLines(errors);
    expect(line).toMatchObject({ level: "error", msg: "invalid email message dropped", messageId: ids[0] });
    expect(Array.isArray(line?.issues)).toBe(true);
  });

  it("an invalid message does not affect the others in its batch", async () => {
    const pm = new PostmarkSession();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const msg = successMessage();

    const { result, ids } = await deliver([{ body: { nope: true } }, { body: msg }], pm.env());

    expect(result.ackAll).toBe(false);
    expect(new Set(result.explicitAcks)).toEqual(new Set(ids));
    expect(await pm.accepted()).toHaveLength(1);
    expect((await rowOf(msg))?.status).toBe("sent");
  });
});

describe("environment", () => {
  it("ENVIRONMENT=production without a token: the invocation fails, nothing acked, nothing recorded", async () => {
    const errors: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args));
    const msg = successMessage();
    const pm = new PostmarkSession();

    await expect(
      deliver([{ body: msg }], pm.env({ ENVIRONMENT: "production", POSTMARK_SERVER_TOKEN: undefined })),
    ).rejects.toThrow(/POSTMARK_SERVER_TOKEN/);

    expect(await rowOf(msg)).toBeUndefined();
    expect(jsonLines(errors)[0]).toMatchObject({ level: "error", msg: "invalid environment, batch not processed" });
  });

  it("ENVIRONMENT=production with a token sends", async () => {
    const pm = new PostmarkSession();
    const msg = successMessage();
    const { result, ids } = await deliver([{ body: msg }], pm.env({ ENVIRONMENT: "production" }));
    expect(result.explicitAcks).toEqual(ids);
    expect(await pm.accepted()).toHaveLength(1);
  });
});

/** Inserts an `emails` row for a message, as a previous delivery would have, `ageMs` old. */
async function insertRow(
  msg: ReturnType<typeof successMessage>,
  status: "sending" | "failed" | "sent",
  ageMs: number,
): Promise<void> {
  await drizzle(bindings.DB)
    .insert(emails)
    .values({
      id: crypto.randomUUID(),
      videoId: msg.payload.videoId,
      attempt: msg.payload.attempt,
      outcome: "success",
      to: msg.payload.to,
      subject: "previous try",
      textBody: "previous try",
      status,
      updatedAt: sql`(unixepoch('subsec') * 1000 - ${ageMs})`,
    });
}
