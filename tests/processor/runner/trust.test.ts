/**
 * The processor trusts only the Worker (issue 18, items 5 and 6): job requests must carry an HMAC of their
 * exact body made with PROCESSOR_SHARED_SECRET and a fresh timestamp (runtime/job-signature.ts), ids must
 * be key-safe, a finished attempt's archive is never replaced, and ffmpeg/ffprobe run without the
 * processor's environment. Audit suite `processor-trust` (tools/audit).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SIGNATURE_SKEW_SECONDS, signJobRequest, verifyJobRequest } from "../../../runtime/job-signature.ts";
import { createLogger } from "../../../runtime/log.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import { runProcess, toolEnv } from "../../../ffmpeg-container/src/ffmpeg/proc.ts";
import { extractKind } from "../../../ffmpeg-container/src/jobs/extract/kind.ts";
import { createProcessorServer } from "../../../ffmpeg-container/src/runner/server.ts";
import { recordAudit } from "../../../tools/audit/record.ts";
import {
  getObject,
  type Harness,
  jobMessage,
  postJob,
  signedJobInit,
  startHarness,
  testVideo,
  uploadSource,
  USER_ID,
  TEST_SHARED_SECRET,
} from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const KEYFRAMES = { mode: "keyframes" } as const;

/** POSTs `init` to /jobs and returns status and parsed body. */
async function send(init: RequestInit): Promise<{ status: number; body: { type?: string; detail?: string } }> {
  const res = await fetch(`${h.url}/jobs`, init);
  const text = await res.text();
  return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : {} };
}

describe("job requests must be signed by the Worker", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => Promise<RequestInit>][] = [
    ["unsigned", async () => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(jobMessage("trust-a", KEYFRAMES)) })],
    ["signed with another secret", () => signedJobInit(jobMessage("trust-a", KEYFRAMES), { secret: "not-the-shared-secret-0123456789abcdef" })],
    [
      "body changed after signing",
      async () => {
        const init = await signedJobInit(jobMessage("trust-a", KEYFRAMES));
        return { ...init, body: JSON.stringify(jobMessage("trust-b", KEYFRAMES)) };
      },
    ],
    ["stale timestamp (10 min old)", () => signedJobInit(jobMessage("trust-a", KEYFRAMES), { nowSeconds: now() - 600 })],
    ["timestamp 10 min ahead", () => signedJobInit(jobMessage("trust-a", KEYFRAMES), { nowSeconds: now() + 600 })],
    [
      "malformed signature header",
      async () => {
        const init = await signedJobInit(jobMessage("trust-a", KEYFRAMES));
        return { ...init, headers: { ...(init.headers as Record<string, string>), "x-vidsnap-signature": "sha1=abc" } };
      },
    ],
  ];
  it.each(cases)("401 problem+json: %s", async (name, build) => {
    const res = await send(await build());
    recordAudit({ case: `POST /jobs ${name}`, expected: "401", got: String(res.status), ok: res.status === 401 });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ type: "https://vidsnap.dev/problems/unauthorized", status: 401 });
    expect(h.logs.some((l) => l.msg === "job request refused: bad signature")).toBe(true);
  });

  it("signatures: same bytes verify within the skew, anything else does not", async () => {
    const body = JSON.stringify(jobMessage("x", KEYFRAMES));
    const t = 1_800_000_000;
    const sig = await signJobRequest(TEST_SHARED_SECRET, body, t);
    const headers = { timestamp: sig["x-vidsnap-timestamp"], signature: sig["x-vidsnap-signature"] };
    expect(headers.signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(await verifyJobRequest(TEST_SHARED_SECRET, new TextEncoder().encode(body), headers, t + MAX_SIGNATURE_SKEW_SECONDS)).toEqual({ ok: true });
    expect(await verifyJobRequest(TEST_SHARED_SECRET, body, headers, t + MAX_SIGNATURE_SKEW_SECONDS + 1)).toEqual({ ok: false, reason: "stale" });
    expect(await verifyJobRequest(TEST_SHARED_SECRET, body + " ", headers, t)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyJobRequest(TEST_SHARED_SECRET, body, { ...headers, timestamp: String(t + 1) }, t)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyJobRequest(TEST_SHARED_SECRET, body, { timestamp: undefined, signature: headers.signature }, t)).toEqual({ ok: false, reason: "missing" });
  });
});

describe("ids object keys are built from", () => {
  it.each([
    ["videoId ../other-video", { videoId: "../other-video" }],
    ["videoId with a slash", { videoId: "a/b" }],
    ["userId of another user's prefix", { userId: "victim/videos/x" }],
    ["userId ..", { userId: ".." }],
    ["videoId percent-encoded", { videoId: "a%2Fb" }],
    ["videoId of 65 characters", { videoId: "a".repeat(65) }],
  ])("400 for a signed job with %s", async (name, ids) => {
    const message = jobMessage("x", KEYFRAMES);
    const crafted = { ...message, payload: { ...message.payload, ...ids } };
    const res = await postJob(h.url, crafted);
    recordAudit({ case: `POST /jobs signed, ${name}`, expected: "400", got: String(res.status), ok: res.status === 400 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: "https://vidsnap.dev/problems/invalid-job" });
  });

  it("the ids the API generates pass (UUID videos, better-auth users)", async () => {
    const message = jobMessage("x", KEYFRAMES);
    const res = await postJob(h.url, { ...message, payload: { ...message.payload, videoId: crypto.randomUUID(), userId: "Zq3xY8mN2pL5kR7tW9vB1cD4fG6hJ0sA" } });
    // Valid and signed: the job runs (and reports the missing upload).
    expect(res.status).toBe(200);
    expect(res.events.at(-1)).toMatchObject({ type: "MSG_EXTRACT_SNAPSHOT_ERROR", payload: { errorMessage: "The uploaded video was not found in storage." } });
  });
});

describe("a finished attempt's output is never replaced", () => {
  const videoId = "trust-finished";
  let zip: Uint8Array;
  let manifest: Uint8Array;

  beforeAll(async () => {
    await uploadSource(h, videoId, testVideo("franck.mp4"));
    const first = await postJob(h.url, jobMessage(videoId, KEYFRAMES));
    expect(first.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    zip = await getObject(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1));
    manifest = await getObject(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1));
  });

  const unchanged = async () =>
    Buffer.from(await getObject(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1))).equals(Buffer.from(zip)) &&
    Buffer.from(await getObject(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1))).equals(Buffer.from(manifest));

  it("a second job of the same (video, attempt) answers 409 and leaves the first ZIP intact", async () => {
    const second = await postJob(h.url, jobMessage(videoId, { mode: "timestamps", timestampsSeconds: [1] }));
    const intact = await unchanged();
    recordAudit({
      case: "POST /jobs again for a finished attempt (other options)",
      expected: "409, first ZIP intact",
      got: `${second.status}, ${intact ? "first ZIP intact" : "ZIP REPLACED"}`,
      ok: second.status === 409 && intact,
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: "https://vidsnap.dev/problems/job-already-finished", status: 409 });
    expect(intact).toBe(true);
  });

  it("the job itself refuses too (a duplicate that passed the early check): ERROR, first ZIP intact", async () => {
    const { alreadyStored: _skip, ...withoutEarlyCheck } = extractKind;
    const p = createProcessorServer(h.config, { kinds: [withoutEarlyCheck], log: createLogger({}, { sink: () => undefined }) });
    const url = await p.listen();
    try {
      const second = await postJob(url, jobMessage(videoId, { mode: "timestamps", timestampsSeconds: [1] }));
      const last = second.events.at(-1);
      const intact = await unchanged();
      recordAudit({
        case: "job for a finished attempt past the early check",
        expected: "ERROR already stored, first ZIP intact",
        got: `${last?.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? `ERROR ${last.payload.errorMessage}` : String(last?.type)}, ${intact ? "first ZIP intact" : "ZIP REPLACED"}`,
        ok: last?.type === "MSG_EXTRACT_SNAPSHOT_ERROR" && intact,
      });
      expect(last).toMatchObject({ type: "MSG_EXTRACT_SNAPSHOT_ERROR", payload: { errorMessage: expect.stringMatching(/already stored/) } });
      expect(intact).toBe(true);
    } finally {
      await p.close();
    }
  });
});

describe("ffmpeg and ffprobe run with a minimal environment", () => {
  it("a tool started like ffmpeg sees no S3 credentials and no shared secret", async () => {
    const secrets = {
      S3_ACCESS_KEY_ID: "AKIA-in-processor-env",
      S3_SECRET_ACCESS_KEY: "s3-secret-in-processor-env",
      PROCESSOR_SHARED_SECRET: TEST_SHARED_SECRET,
      AWS_SECRET_ACCESS_KEY: "aws-secret",
    };
    const saved = { ...process.env };
    Object.assign(process.env, secrets);
    let out: string;
    try {
      expect(Object.keys(toolEnv()).sort()).toEqual(expect.arrayContaining(["LANG", "LC_ALL", "PATH"]));
      // Through the same spawn helper as ffmpeg and ffprobe.
      out = (await runProcess("/usr/bin/env", [], { cwd: h.tmpDir, signal: new AbortController().signal })).stdout;
    } finally {
      process.env = saved;
    }
    const names = out.split("\n").filter(Boolean).map((l) => l.split("=")[0]);
    const leaked = Object.values(secrets).filter((v) => out.includes(v));
    recordAudit({
      case: "environment of ffmpeg/ffprobe (env printed by a spawned tool)",
      expected: "no S3_*, AWS_* or PROCESSOR_SHARED_SECRET",
      got: leaked.length ? `LEAKED ${names.filter((n) => /^(S3_|AWS_|PROCESSOR_)/.test(n!)).join(", ")}` : `only ${names.sort().join(", ")}`,
      ok: leaked.length === 0,
    });
    expect(leaked).toEqual([]);
    expect(names.sort()).toEqual(["LANG", "LC_ALL", "PATH", ...(process.env.TZ ? ["TZ"] : [])].sort());
  });
});
