/**
 * The runner's HTTP API (ffmpeg-container/src/runner/): request validation, job slots (409, 503 with
 * Retry-After), the job timeout and client disconnects, with real ffmpeg and a local S3 server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type http from "node:http";
import { requestIdOf, SLOT_WAITERS_PER_SLOT } from "../../../ffmpeg-container/src/runner/server.ts";
import { SLOT_WAIT_HEADER } from "../../../runtime/job-signature.ts";
import { isFinalExtractEvent } from "../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey } from "../../../schema/object-keys.ts";
import { type Harness, jobMessage, leftoverTempFiles, objectExists, postJob, signedJobInit, startHarness, startJob, testVideo, uploadSource, USER_ID, waitUntil } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  // One slow job for the concurrency tests: every frame of a 200 s video, 1 image per second.
  await uploadSource(h, "slow", testVideo("franck.mp4"));
});
afterAll(async () => {
  await h?.close();
});

const SLOW = { mode: "interval", intervalSeconds: 1 } as const;

async function healthz(baseUrl = h.url) {
  const res = await fetch(`${baseUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; runningJobs: number; waitingJobs: number } };
}

describe("request validation", () => {
  it.each([
    ["not JSON", "{oops"],
    ["an empty object", {}],
    ["the wrong type", { ...jobMessage("x", { mode: "keyframes" }), type: "MSG_EXTRACT_SNAPSHOT_SUCCESS" }],
    ["attempt 0", jobMessage("x", { mode: "keyframes" }, 0)],
    ["an unknown mode", { ...jobMessage("x", { mode: "keyframes" }), payload: { videoId: "x", userId: "u", attempt: 1, options: { mode: "all" } } }],
    ["an interval below 0.1 s", jobMessage("x", { mode: "interval", intervalSeconds: 0.01 })],
    ["an extra envelope key", { ...jobMessage("x", { mode: "keyframes" }), extra: true }],
  ])("400 problem+json for %s", async (_, body) => {
    const res = await postJob(h.url, body);
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: "https://vidsnap.dev/problems/invalid-job", title: "Invalid job", status: 400 });
    expect((res.body as { detail: string }).detail.length).toBeGreaterThan(0);
  });

  it("413 for an oversized body, 404 for unknown paths, 405 for wrong methods", async () => {
    const big = await postJob(h.url, "x".repeat(100_000));
    expect(big.status).toBe(413);
    const notFound = await fetch(`${h.url}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ type: "https://vidsnap.dev/problems/not-found", status: 404 });
    const wrong = await fetch(`${h.url}/jobs`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });
});

describe("concurrency, timeout, disconnect", () => {
  it("409 for the same (videoId, attempt) while it runs; the running job still reports", async () => {
    const job = await startJob(h.url, jobMessage("slow", SLOW));
    expect(job.first.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
    expect((await healthz()).body.runningJobs).toBe(1);
    const dup = await postJob(h.url, jobMessage("slow", SLOW));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ type: "https://vidsnap.dev/problems/job-already-running", status: 409 });
    // Another attempt of the same video is a different job.
    const events = await job.rest;
    expect(events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(events.filter((e) => isFinalExtractEvent(e.type))).toHaveLength(1);
    expect(await leftoverTempFiles(h)).toEqual([]);
  });

  it("503 with Retry-After when every slot is busy", async () => {
    const one = await h.extraProcessor({ maxConcurrentJobs: 1 });
    const job = await startJob(one.url, jobMessage("slow", SLOW, 2));
    const busy = await postJob(one.url, jobMessage("other", { mode: "keyframes" }));
    expect(busy.status).toBe(503);
    expect(busy.body).toMatchObject({ type: "https://vidsnap.dev/problems/processor-busy", status: 503 });
    const raw = await fetch(`${one.url}/jobs`, await signedJobInit(jobMessage("other", { mode: "keyframes" })));
    expect(raw.headers.get("retry-after")).toMatch(/^\d+$/);
    await raw.text();
    expect((await job.rest).at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    await one.processor.close();
  });

  it("a job allowed to wait (x-vidsnap-slot-wait) starts as soon as the slot frees; the backlog is bounded", async () => {
    const one = await h.extraProcessor({ maxConcurrentJobs: 1 });
    const waiting = async (message: unknown, seconds: number) => {
      const init = await signedJobInit(message);
      return fetch(`${one.url}/jobs`, { ...init, headers: { ...(init.headers as Record<string, string>), [SLOT_WAIT_HEADER]: String(seconds) } });
    };
    await uploadSource(h, "waiter", testVideo("hardware-example.mp4"));
    const first = await startJob(one.url, jobMessage("slow", SLOW, 7));
    const queued = waiting(jobMessage("waiter", { mode: "keyframes" }), 60);
    await waitUntil("the job waiting for a slot", async () => (await healthz(one.url)).body.waitingJobs === 1);
    // The backlog is SLOT_WAITERS_PER_SLOT per slot: one more than that is answered 503 at once.
    const more = Array.from({ length: SLOT_WAITERS_PER_SLOT }, (_, i) => waiting(jobMessage(`more-${i}`, { mode: "keyframes" }), 60));
    const refused = await Promise.race(more);
    expect(refused.status).toBe(503);
    await refused.text();
    expect((await healthz(one.url)).body.waitingJobs).toBe(SLOT_WAITERS_PER_SLOT);
    const firstDone = (await first.rest).at(-1)!;
    const endedAt = Date.now();
    const second = await queued;
    expect(second.status).toBe(200);
    const lines = (await second.text()).trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(firstDone.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(lines.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(Date.now() - endedAt).toBeLessThan(20_000);
    // The other waiters each get the slot in turn (their sources do not exist: an ERROR, not a 503).
    const rest = await Promise.all(more.map(async (p) => (await p).status));
    expect(rest.filter((st) => st === 200)).toHaveLength(SLOT_WAITERS_PER_SLOT - 1);
    // Never more jobs at once than slots, waiting included.
    const accepted = h.logs.filter((l) => l.msg === "job accepted" && (l.fields.jobSlots as number) === 1);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    expect(accepted.every((l) => (l.fields.runningJobs as number) <= 1)).toBe(true);
    await one.processor.close();
  }, 120_000);

  it("the job timeout kills ffmpeg and reports ERROR; nothing is left behind", async () => {
    const quick = await h.extraProcessor({ jobTimeoutSeconds: 0.4 });
    const started = Date.now();
    const res = await postJob(quick.url, jobMessage("slow", SLOW, 3));
    expect(Date.now() - started).toBeLessThan(5000);
    const last = res.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorMessage).toMatch(/longer than the limit of 0.4 seconds/);
    expect(await leftoverTempFiles(h)).toEqual([]);
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, "slow", 3))).toBe(false);
    expect((await healthz(quick.url)).body.runningJobs).toBe(0);
    await quick.processor.close();
  });

  it("a client disconnect aborts the job and cleans up", async () => {
    const job = await startJob(h.url, jobMessage("slow", SLOW, 4));
    job.disconnect();
    await waitUntil("the job to stop", () => h.processor.runningJobs() === 0);
    expect(h.logs.some((l) => l.msg === "job aborted: client disconnected" && l.fields.jobId === "slow#4")).toBe(true);
    expect(await leftoverTempFiles(h)).toEqual([]);
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, "slow", 4))).toBe(false);
    expect(await healthz()).toEqual({ status: 200, body: { ok: true, runningJobs: 0, waitingJobs: 0 } });
  });
});

describe("request id of a render's log lines", () => {
  const req = (id?: string | string[]) => ({ headers: id === undefined ? {} : { "x-request-id": id } }) as unknown as http.IncomingMessage;
  it("takes the Worker's x-request-id when it is a plain token", () => {
    expect(requestIdOf(req("6e1f0c9a-2b7d-4c3e-9f00-1a2b3c4d5e6f"))).toBe("6e1f0c9a-2b7d-4c3e-9f00-1a2b3c4d5e6f");
  });
  it("drops an absent, repeated, spaced or oversized one", () => {
    expect(requestIdOf(req())).toBeUndefined();
    expect(requestIdOf(req(["a", "b"]))).toBeUndefined();
    expect(requestIdOf(req("a b"))).toBeUndefined();
    expect(requestIdOf(req("x".repeat(129)))).toBeUndefined();
  });
});
