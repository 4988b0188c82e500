/**
 * Generators and generations end to end in workerd (issue 15 §2). The loopback webhook receiver
 * (../support/webhook-receiver.ts) plays the generator: it records the signed request the vidsnap-webhooks
 * consumer sends (signature checked with docs/examples/verify-webhook.ts), and the test calls back as the
 * generator would. A `ready` callback's URL is imported by the stand-in processor (../stand-in-import.ts reads
 * only its path and stores a real source in the S3 server), then extracted, with the outcome email and the
 * whole story in the timeline. Faults: forged, missing, other generation's and repeated callbacks, a callback
 * after the cron's timeout, a generator that is down (every try, then the failure email), oversized input.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { CreateGenerationResponse, GeneratorWithSecret, Problem, Video } from "../../../schema/api.ts";
import { generations, videos } from "../../../schema/db.ts";
import { expireGenerations } from "../../../edge-api/src/lifecycle/expire-generations.ts";
import { deliverGenerationRequest, GENERATION_REQUEST_MAX_TRIES } from "../../../edge-api/src/services/generations/deliver-generation-request.ts";
import { verifyWebhook } from "../../../docs/examples/verify-webhook.ts";
import { MAX_GENERATION_BODY_BYTES } from "../../../edge-api/src/body-limit.ts";
import { requestGenerationMessage } from "../../../schema/messages/index.ts";
import { api, checkConfig, db, emailsFor, eventually, processorJobs, runQueue, signUp, testDeps, testEnv } from "../support/env.ts";
import { createEndpoint, hookUrl, plan, received } from "../support/webhooks.ts";

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;
beforeAll(async () => {
  alice = await signUp("alice", { verified: true });
  bob = await signUp("bob", { verified: true });
});

/** A URL of no real server: the stand-in processor reads only its path. */
const REMOTE = "http://127.0.0.1:9";

interface GeneratorRequestBody {
  generationId: string;
  input: Record<string, unknown>;
  callback: { url: string; token: string };
}

async function createGenerator(user: User, key: string, name = "n8n workflow"): Promise<GeneratorWithSecret> {
  const res = await api("/v1/generators", { method: "POST", token: user.token, json: { name, url: hookUrl(key) } });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

async function createGeneration(user: User, body: Record<string, unknown>): Promise<CreateGenerationResponse> {
  const res = await api("/v1/generations", { method: "POST", token: user.token, json: body });
  expect(res.status, await res.clone().text()).toBe(202);
  return res.json();
}

async function getVideo(user: User, id: string): Promise<Video> {
  const res = await api(`/v1/videos/${id}`, { token: user.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { video: Video }).video;
}

/** The request the generator got (waits for it). */
async function requestOf(key: string, n = 1) {
  const list = await eventually(async () => {
    const r = await received(key);
    return r.length >= n ? r : undefined;
  });
  return { raw: list[n - 1]!, body: JSON.parse(list[n - 1]!.body) as GeneratorRequestBody };
}

function callback(id: string, token: string | undefined, body: Record<string, unknown>) {
  return api(`/v1/generations/${id}/callback`, {
    method: "POST",
    json: body,
    headers: token === undefined ? {} : { "vidsnap-callback-token": token },
  });
}

async function timeline(user: User, id: string) {
  const res = await api(`/v1/videos/${id}/events?limit=100`, { token: user.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { jobKind: string; fromStatus: string | null; toStatus: string; attempt: number; source: string; message: string | null }[] }).data.reverse();
}

describe("/v1/generators", () => {
  it("registers (secret once), lists, gets, rotates and deletes, scoped to the owner", async () => {
    const created = await createGenerator(alice, crypto.randomUUID(), "avatars");
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.generator).toMatchObject({ name: "avatars", url: expect.stringContaining("/hooks/") });
    const id = created.generator.id;

    const list = await api("/v1/generators", { token: alice.token });
    expect(((await list.json()) as { data: { id: string }[] }).data.map((g) => g.id)).toContain(id);
    const got = await api(`/v1/generators/${id}`, { token: alice.token });
    expect(await got.json()).toEqual({ generator: created.generator });
    expect(JSON.stringify(created.generator)).not.toContain("whsec_");

    // Another user's generator is not found, for every verb.
    for (const [method, path] of [["GET", `/v1/generators/${id}`], ["DELETE", `/v1/generators/${id}`], ["POST", `/v1/generators/${id}/rotate-secret`]] as const) {
      const res = await api(path, { method, token: bob.token });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const other = await api("/v1/generations", { method: "POST", token: bob.token, json: { generator: id, input: {} } });
    expect(other.status).toBe(404);

    const rotated = await api(`/v1/generators/${id}/rotate-secret`, { method: "POST", token: alice.token });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json()) as GeneratorWithSecret;
    expect(fresh.secret).not.toBe(created.secret);

    expect((await api(`/v1/generators/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect((await api(`/v1/generators/${id}`, { token: alice.token })).status).toBe(404);
  });

  it("refuses a URL against the outgoing-URL rules (400 naming url) and an unauthenticated caller (401)", async () => {
    const res = await api("/v1/generators", { method: "POST", token: alice.token, json: { name: "x", url: "http://10.0.0.1/hook" } });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.type).toBe("https://vidsnap.dev/problems/validation");
    expect(problem.errors?.[0]).toMatchObject({ path: "url", message: "must not point to private addresses" });
    expect((await api("/v1/generators", { method: "POST", json: { name: "x", url: hookUrl("x") } })).status).toBe(401);
  });
});

describe("POST /v1/generations", () => {
  it("sends the generator a signed request; its ready callback imports the URL, extracts, emails; all in the timeline", async () => {
    const key = crypto.randomUUID();
    const gen = await createGenerator(alice, key);
    const started = Date.now();
    const created = await createGeneration(alice, {
      generator: gen.generator.id,
      input: { script: "Hello", avatar: "anna", nested: { n: [1, 2, 3] } },
      title: "avatar.mp4",
      estimatedSeconds: 600,
    });
    const id = created.video.id;
    expect(created.video).toMatchObject({ status: "VIDEO_GENERATION_PENDING", attempt: 0, filename: "avatar.mp4", sourceUrl: null });
    const eta = Date.parse(created.video.estimatedCompletionAt!);
    expect(eta).toBeGreaterThanOrEqual(started + 600_000 - 1000);
    expect(eta).toBeLessThanOrEqual(Date.now() + 600_000 + 1000);

    // The generator's side: a signed POST with the input and the callback.
    const { raw, body } = await requestOf(key);
    expect(verifyWebhook(raw.body, raw.headers["vidsnap-signature"], gen.secret)).toBe(true);
    expect(verifyWebhook(raw.body, raw.headers["vidsnap-signature"], "whsec_wrong")).toBe(false);
    expect(raw.headers["vidsnap-generation-id"]).toBe(id);
    expect(body).toEqual({
      generationId: id,
      input: { script: "Hello", avatar: "anna", nested: { n: [1, 2, 3] } },
      callback: { url: `http://127.0.0.1:8787/v1/generations/${id}/callback`, token: expect.stringMatching(/^gcb_[A-Za-z0-9_-]{43}$/) },
    });
    // Only the token's hash is stored.
    const [row] = await db.select().from(generations).where(eq(generations.id, id));
    expect(JSON.stringify(row)).not.toContain(body.callback.token);
    expect(row).toMatchObject({ status: "succeeded", attemptsMade: 1, lastResponseStatus: 200 });

    const path = new URL(body.callback.url).pathname;
    const ready = await api(path, {
      method: "POST",
      headers: { "vidsnap-callback-token": body.callback.token },
      json: { status: "ready", url: `${REMOTE}/media/avatar.mp4`, metadata: { size: 123, format: "mp4" } },
    });
    expect(ready.status, await ready.clone().text()).toBe(202);
    expect(((await ready.json()) as { video: Video }).video).toMatchObject({ status: "VIDEO_IMPORT_QUEUED", attempt: 1, sourceUrl: `${REMOTE}/media/avatar.mp4` });

    // A repeated callback (even a different one) changes nothing.
    const again = await callback(id, body.callback.token, { status: "failed", error: "late" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { video: Video }).video.errorMessage).toBeNull();

    const done = await eventually(async () => {
      const v = await getVideo(alice, id);
      return v.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? v : undefined;
    }, 20_000);
    expect(done).toMatchObject({ attempt: 2, imageCount: 2 });
    const jobs = (await processorJobs(id)) as { type: string; payload: { attempt: number; url?: string } }[];
    expect(jobs.map((j) => [j.type, j.payload.attempt])).toEqual([
      ["MSG_IMPORT_VIDEO", 1],
      ["MSG_EXTRACT_SNAPSHOT", 2],
    ]);
    const emails = await eventually(async () => {
      const e = await emailsFor(id);
      return e.length > 0 ? e : undefined;
    });
    expect(emails.map((e) => e.type)).toEqual(["MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS"]);

    expect((await timeline(alice, id)).map((e) => [e.jobKind, e.fromStatus, e.toStatus, e.attempt, e.source])).toEqual([
      ["generation", null, "VIDEO_GENERATION_PENDING", 0, "user"],
      ["generation", "VIDEO_GENERATION_PENDING", "VIDEO_GENERATION_PENDING", 0, "api"],
      ["generation", "VIDEO_GENERATION_PENDING", "VIDEO_IMPORT_QUEUED", 0, "generator"],
      ["import", "VIDEO_IMPORT_QUEUED", "VIDEO_IMPORTING", 1, "processor"],
      ["import", "VIDEO_IMPORTING", "VIDEO_UPLOAD_PENDING", 1, "processor"],
      ["extract", "VIDEO_UPLOAD_PENDING", "VIDEO_IMAGE_EXTRACTION_QUEUED", 2, expect.any(String)],
      ["extract", "VIDEO_IMAGE_EXTRACTION_QUEUED", "VIDEO_IMAGE_EXTRACTION_PROCESSING", 2, "processor"],
      ["extract", "VIDEO_IMAGE_EXTRACTION_PROCESSING", "VIDEO_IMAGE_EXTRACTION_SUCCESS", 2, "processor"],
    ]);
  });

  it("refuses forged, missing and other generations' tokens (401), unknown ids (404), a refused URL (400); nothing changes", async () => {
    const key = crypto.randomUUID();
    const gen = await createGenerator(alice, key);
    const mine = await createGeneration(alice, { generator: gen.generator.id, input: { n: 1 } });
    const { body: myRequest } = await requestOf(key);
    const bobKey = crypto.randomUUID();
    const bobGen = await createGenerator(bob, bobKey);
    const theirs = await createGeneration(bob, { generator: bobGen.generator.id, input: { n: 2 } });
    const { body: theirRequest } = await requestOf(bobKey);

    const cases: [string, string | undefined, number, string][] = [
      ["no token", undefined, 401, "unauthorized"],
      ["forged token", `gcb_${"A".repeat(43)}`, 401, "unauthorized"],
      ["another user's generation's token", theirRequest.callback.token, 401, "unauthorized"],
    ];
    for (const [name, token, status, kind] of cases) {
      const res = await callback(mine.video.id, token, { status: "ready", url: `${REMOTE}/media/x.mp4` });
      expect(res.status, name).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(((await res.json()) as Problem).type).toBe(`https://vidsnap.dev/problems/${kind}`);
    }
    const unknown = await callback(crypto.randomUUID(), myRequest.callback.token, { status: "failed" });
    expect(unknown.status).toBe(404);
    const refused = await callback(mine.video.id, myRequest.callback.token, { status: "ready", url: "http://10.0.0.1/v.mp4" });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Problem).errors?.[0]).toMatchObject({ path: "url" });
    const noUrl = await callback(mine.video.id, myRequest.callback.token, { status: "ready" });
    expect(noUrl.status).toBe(400);

    for (const [user, id] of [[alice, mine.video.id], [bob, theirs.video.id]] as const) {
      expect(await getVideo(user, id)).toMatchObject({ status: "VIDEO_GENERATION_PENDING", sourceUrl: null });
    }
    const [row] = await db.select().from(generations).where(eq(generations.id, mine.video.id));
    expect(row!.callbackAt).toBeNull();
  });

  it("a failed callback ends VIDEO_GENERATION_ERROR with the generator's error (bounded), an email and a video.generation_failed webhook", async () => {
    const key = crypto.randomUUID();
    const hook = crypto.randomUUID();
    await createEndpoint(alice, { url: hookUrl(hook), events: ["video.generation_failed"] });
    const gen = await createGenerator(alice, key, "voice <b>bot</b>");
    const created = await createGeneration(alice, { generator: gen.generator.id, input: {} });
    const { body } = await requestOf(key);
    const error = `Avatar service said <script>alert(1)</script> ${"x".repeat(3000)}`;
    const res = await callback(created.video.id, body.callback.token, { status: "failed", error });
    expect(res.status).toBe(202);
    const video = ((await res.json()) as { video: Video }).video;
    expect(video).toMatchObject({ status: "VIDEO_GENERATION_ERROR", errorMessage: "The generator reported a failure." });
    expect(video.errorDescription).toHaveLength(1000);
    const emails = await eventually(async () => {
      const e = await emailsFor(created.video.id);
      return e.length > 0 ? e : undefined;
    });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      type: "MSG_SEND_VIDEO_GENERATION_ERROR",
      payload: { attempt: 0, generatorName: "voice <b>bot</b>", errorMessage: "The generator reported a failure." },
    });
    // Repeated: nothing changes, no second email.
    const again = await callback(created.video.id, body.callback.token, { status: "ready", url: `${REMOTE}/media/x.mp4` });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { video: Video }).video.status).toBe("VIDEO_GENERATION_ERROR");
    const hooks = await eventually(async () => {
      const r = await received(hook);
      return r.length > 0 ? r : undefined;
    });
    expect(JSON.parse(hooks[0]!.body)).toMatchObject({ type: "video.generation_failed", data: { video: { id: created.video.id, status: "VIDEO_GENERATION_ERROR" } } });
    const last = (await timeline(alice, created.video.id)).at(-1)!;
    expect(last).toMatchObject({ jobKind: "generation", toStatus: "VIDEO_GENERATION_ERROR", source: "generator" });
  });

  it("a repeat of a callback accepted just before the Worker stopped (callback_at never stamped) answers 200, not 409; nothing changes", async () => {
    const key = crypto.randomUUID();
    const gen = await createGenerator(alice, key);
    const created = await createGeneration(alice, { generator: gen.generator.id, input: {} });
    const { body } = await requestOf(key);
    const first = await callback(created.video.id, body.callback.token, { status: "failed", error: "GPU quota" });
    expect(first.status).toBe(202);
    // What a Worker stopped between the status change and the stamp leaves behind.
    await db.update(generations).set({ callbackAt: null }).where(eq(generations.id, created.video.id));
    const before = await timeline(alice, created.video.id);
    const repeat = await callback(created.video.id, body.callback.token, { status: "ready", url: `${REMOTE}/media/x.mp4` });
    expect(repeat.status, await repeat.clone().text()).toBe(200);
    expect(((await repeat.json()) as { video: Video }).video).toMatchObject({ status: "VIDEO_GENERATION_ERROR", sourceUrl: null });
    expect(await timeline(alice, created.video.id)).toEqual(before);
    const [row] = await db.select().from(generations).where(eq(generations.id, created.video.id));
    expect(row!.callbackAt).not.toBeNull();
  });

  it("the cron fails a generation with no callback by estimatedCompletionAt + GENERATION_TIMEOUT_SECONDS; a later callback gets 409", async () => {
    const key = crypto.randomUUID();
    const gen = await createGenerator(alice, key);
    const created = await createGeneration(alice, { generator: gen.generator.id, input: {}, estimatedSeconds: 60 });
    const { body } = await requestOf(key);
    const deps = testDeps();
    const eta = Date.parse(created.video.estimatedCompletionAt!);
    // Not yet: the grace period has not passed.
    await expireGenerations(deps, { now: new Date(eta + deps.config.generationTimeoutSeconds * 1000 - 1000) });
    expect((await getVideo(alice, created.video.id)).status).toBe("VIDEO_GENERATION_PENDING");
    const result = await expireGenerations(deps, { now: new Date(eta + deps.config.generationTimeoutSeconds * 1000 + 1000) });
    expect(result.timedOut).toBeGreaterThanOrEqual(1);
    expect(await getVideo(alice, created.video.id)).toMatchObject({
      status: "VIDEO_GENERATION_ERROR",
      errorMessage: "The generator did not call back in time.",
    });
    const late = await callback(created.video.id, body.callback.token, { status: "ready", url: `${REMOTE}/media/x.mp4` });
    expect(late.status).toBe(409);
    expect(((await late.json()) as Problem).type).toBe("https://vidsnap.dev/problems/conflict");
    expect((await getVideo(alice, created.video.id)).status).toBe("VIDEO_GENERATION_ERROR");
    const emails = await eventually(async () => {
      const e = await emailsFor(created.video.id);
      return e.length > 0 ? e : undefined;
    });
    expect(emails.map((e) => e.type)).toEqual(["MSG_SEND_VIDEO_GENERATION_ERROR"]);
    expect((await timeline(alice, created.video.id)).at(-1)).toMatchObject({ toStatus: "VIDEO_GENERATION_ERROR", source: "cron" });
  });

  it("a generator that is down is retried, then the video fails with an email after the last try", async () => {
    const key = crypto.randomUUID();
    await plan(key, [], 503);
    const gen = await createGenerator(alice, key);
    const created = await createGeneration(alice, { generator: gen.generator.id, input: { a: 1 } });
    const id = created.video.id;
    // The queue's first try failed and was put back with a 30 s delay; the next tries are run here at once.
    await eventually(async () => {
      const [row] = await db.select().from(generations).where(eq(generations.id, id));
      return row && row.attemptsMade === 1 && row.lockedUntil === null ? row : undefined;
    });
    const deps = testDeps();
    const outcomes = [];
    for (let i = 2; i <= GENERATION_REQUEST_MAX_TRIES; i++) outcomes.push((await deliverGenerationRequest(deps, { generationId: id, userId: alice.userId })).kind);
    expect(outcomes).toEqual([...Array(GENERATION_REQUEST_MAX_TRIES - 2).fill("retry"), "failed"]);
    expect(await received(key)).toHaveLength(GENERATION_REQUEST_MAX_TRIES);
    // A duplicate message after the end sends nothing.
    expect((await deliverGenerationRequest(deps, { generationId: id, userId: alice.userId })).kind).toBe("skipped");
    expect(await received(key)).toHaveLength(GENERATION_REQUEST_MAX_TRIES);

    expect(await getVideo(alice, id)).toMatchObject({
      status: "VIDEO_GENERATION_ERROR",
      errorMessage: "The generator could not be reached.",
      errorDescription: `The request failed after ${GENERATION_REQUEST_MAX_TRIES} tries; last: HTTP 503.`,
    });
    const [row] = await db.select().from(generations).where(eq(generations.id, id));
    expect(row).toMatchObject({ status: "failed", attemptsMade: GENERATION_REQUEST_MAX_TRIES, lastResponseStatus: 503 });
    expect(row!.attemptLog).toHaveLength(GENERATION_REQUEST_MAX_TRIES);
    const emails = await eventually(async () => {
      const e = await emailsFor(id);
      return e.length > 0 ? e : undefined;
    });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ type: "MSG_SEND_VIDEO_GENERATION_ERROR", payload: { errorMessage: "The generator could not be reached." } });
    const events = await timeline(alice, id);
    expect(events.filter((e) => e.source === "api").map((e) => e.toStatus)).toEqual([
      ...Array(GENERATION_REQUEST_MAX_TRIES - 1).fill("VIDEO_GENERATION_PENDING"),
      "VIDEO_GENERATION_ERROR",
    ]);
    expect(events[1]!.message).toContain("HTTP 503");
  });

  it("a dead-lettered request fails the request and the pending generation (source api), with the email", async () => {
    const key = crypto.randomUUID();
    await plan(key, [], 503);
    const gen = await createGenerator(alice, key);
    const created = await createGeneration(alice, { generator: gen.generator.id, input: {} });
    const id = created.video.id;
    await eventually(async () => {
      const [row] = await db.select().from(generations).where(eq(generations.id, id));
      return row && row.attemptsMade === 1 && row.lockedUntil === null ? row : undefined;
    });
    await runQueue("vidsnap-webhooks-dlq", [requestGenerationMessage({ generationId: id, userId: alice.userId })]);
    expect(await getVideo(alice, id)).toMatchObject({ status: "VIDEO_GENERATION_ERROR", errorMessage: "The generator could not be reached." });
    const [row] = await db.select().from(generations).where(eq(generations.id, id));
    expect(row!.status).toBe("failed");
    expect((await timeline(alice, id)).at(-1)).toMatchObject({ toStatus: "VIDEO_GENERATION_ERROR", source: "api" });
    await eventually(async () => ((await emailsFor(id)).length === 1 ? true : undefined));
  });

  it("refuses an input over 64 KB, a non-object input and an unknown generator; nothing stored", async () => {
    const gen = await createGenerator(alice, crypto.randomUUID());
    const before = (await db.select({ id: videos.id }).from(videos).where(eq(videos.userId, alice.userId))).length;
    const big = await api("/v1/generations", { method: "POST", token: alice.token, json: { generator: gen.generator.id, input: { blob: "x".repeat(65_536) } } });
    expect(big.status).toBe(400);
    const problem = (await big.json()) as Problem;
    expect(problem.type).toBe("https://vidsnap.dev/problems/validation");
    expect(problem.errors?.[0]).toMatchObject({ path: "input" });
    // The body limit of this route leaves room for the whole input; far beyond it the body is refused unread.
    const huge = await api("/v1/generations", { method: "POST", token: alice.token, json: { generator: gen.generator.id, input: { blob: "x".repeat(90_000) } } });
    expect(huge.status).toBe(413);
    expect(MAX_GENERATION_BODY_BYTES).toBe(80 * 1024);
    const array = await api("/v1/generations", { method: "POST", token: alice.token, json: { generator: gen.generator.id, input: [1, 2] } });
    expect(array.status).toBe(400);
    const unknown = await api("/v1/generations", { method: "POST", token: alice.token, json: { generator: crypto.randomUUID(), input: {} } });
    expect(unknown.status).toBe(404);
    expect((await db.select({ id: videos.id }).from(videos).where(eq(videos.userId, alice.userId))).length).toBe(before);
  });

  it("validates GENERATION_TIMEOUT_SECONDS", () => {
    expect(checkConfig({ ...testEnv, GENERATION_TIMEOUT_SECONDS: "" })).toMatchObject({ ok: true, config: { generationTimeoutSeconds: 3600 } });
    expect(checkConfig({ ...testEnv, GENERATION_TIMEOUT_SECONDS: "10" }).ok).toBe(false);
    expect(checkConfig({ ...testEnv, GENERATION_TIMEOUT_SECONDS: "abc" }).ok).toBe(false);
  });
});
