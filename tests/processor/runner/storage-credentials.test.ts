/**
 * Issue 18 item 6: the processor holds no storage credentials; every job carries short-lived ones scoped to
 * what that job may touch (docs/architecture.md "Storage credentials"). Checked against the real local S3
 * server (SigV4 and session tokens verified, tools/stack/r2-temp-credentials.ts), the processor started
 * as the stack starts it (main.ts with the stack's environment) and real ffmpeg. Credentials are minted as
 * the Worker mints them on the local stack (its scopes, schema/storage-credentials.ts; the stand-in's
 * minting). Audit suite `storage-creds` (tools/audit).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveObjectKey, sourceObjectKey, transcodeAttemptPrefix } from "../../../schema/object-keys.ts";
import type { JobCredentials, StorageCredential } from "../../../schema/storage-credentials.ts";
import { OUT_OF_SCOPE_MESSAGE } from "../../../ffmpeg-container/src/s3.ts";
import { recordAudit } from "../../../tools/audit/record.ts";
import { REPO_ROOT } from "../../../tools/paths.ts";
import { LOCAL } from "../../../tools/stack/local-config.ts";
import { localJobCredentials } from "../../../tools/stack/r2-temp-credentials.ts";
import { localProcessorEnv } from "../../../tools/stack/stack.ts";
import { type Harness, jobCredentials, jobMessage, postJob, startHarness, TEST_SHARED_SECRET, testVideo, uploadSource, USER_ID } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const KEYFRAMES = { mode: "keyframes" } as const;
/** Every value that would be a long-lived storage credential here: the local server's key id and secret (both `S3RVER`). */
const LONG_LIVED = [LOCAL.s3AccessKeyId, LOCAL.s3SecretAccessKey];

const client = (c: StorageCredential) =>
  new AwsClient({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, region: LOCAL.s3Region, service: "s3", retries: 0 });
const url = (bucket: string, key = "") => `${h.s3Server.endpoint}/${bucket}${key ? `/${key}` : ""}`;
/** `status Code` of an S3 answer (the Code of its XML error, none for a success). */
async function outcome(res: Promise<Response>): Promise<string> {
  const r = await res;
  const code = /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1];
  return code ? `${r.status} ${code}` : String(r.status);
}

describe("the processor's environment, and ffmpeg's, hold no storage key", () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    // SIGTERM: tsx passes it on to the processor it started (a SIGKILL would stop tsx alone and leave the
    // processor running); SIGKILL only if it has not exited within 10 s.
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    const force = setTimeout(() => child?.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(force);
  }, 20_000);

  it("a job's ffmpeg reads neither a storage key nor the job's secrets in its own or its parent's environment", async () => {
    // The processor as the local stack starts it (tools/stack/stack.ts localProcessorEnv), on a free port.
    const env = { ...localProcessorEnv(0, h.s3Server.endpoint), PROCESSOR_SHARED_SECRET: TEST_SHARED_SECRET, TMPDIR: h.tmpDir, FFMPEG_PATH: "", FFPROBE_PATH: "" };
    child = spawn(process.execPath, [path.join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(REPO_ROOT, "ffmpeg-container/src/main.ts")], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c));
    const baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /"msg":"listening".*?"url":"([^"]+)"/.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(m[1]!);
        } else if (child!.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`processor exited: ${out}`));
        }
      }, 50);
    });

    const videoId = "creds-env";
    await uploadSource(h, videoId, testVideo("tree.avi"));
    const message = jobMessage(videoId, { mode: "interval", intervalSeconds: 2 });
    const credentials = jobCredentials(message)!;
    const jobSecrets = [credentials.read!.secretAccessKey, credentials.read!.sessionToken, credentials.write!.secretAccessKey, credentials.write!.sessionToken];
    const seen = new Map<number, { environ: string; parentEnviron: string; cmdline: string }>();
    let running = true;
    const watcher = (async () => {
      while (running) {
        const ps = execFileSync("ps", ["-eww", "-o", "pid=,ppid=,args="], { encoding: "utf8" });
        for (const line of ps.split("\n")) {
          const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
          if (!m || !/\bffmpeg\b/.test(m[3]!) || !m[3]!.includes(h.s3Server.endpoint) || seen.has(Number(m[1]))) continue;
          try {
            seen.set(Number(m[1]), {
              environ: readFileSync(`/proc/${m[1]}/environ`, "utf8"),
              parentEnviron: readFileSync(`/proc/${m[2]}/environ`, "utf8"),
              cmdline: readFileSync(`/proc/${m[1]}/cmdline`, "utf8").replace(/\0/g, " "),
            });
          } catch {
            /* it ended meanwhile */
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const res = await postJob(baseUrl, { ...message, credentials });
    running = false;
    await watcher;
    expect(res.events.at(-1)?.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(seen.size).toBeGreaterThan(0);

    const found = (text: string, values: readonly string[]) => values.filter((v) => text.includes(v));
    // Variables that name a storage credential (AWS_CA_BUNDLE and the like are none).
    const names = (environ: string) => environ.split("\0").map((kv) => kv.split("=")[0]!).filter((n) => /^(S3|AWS|R2)_.*(KEY|SECRET|TOKEN)/.test(n));
    const parent = [...seen.values()][0]!.parentEnviron;
    const leakedParent = [...names(parent), ...found(parent, [...LONG_LIVED, ...jobSecrets])];
    const leakedFfmpeg = [...seen.values()].flatMap((p) => [...names(p.environ), ...found(p.environ, [...LONG_LIVED, ...jobSecrets])]);
    const cmdSecrets = [...seen.values()].flatMap((p) => found(p.cmdline, [...LONG_LIVED.map((v) => `Credential=${v}/`), credentials.read!.secretAccessKey, credentials.write!.secretAccessKey, credentials.write!.sessionToken]));
    recordAudit({ case: "processor's environment (/proc/<ppid>/environ read by a job's ffmpeg)", expected: "no storage key, no job secret", got: leakedParent.length ? `LEAKED ${leakedParent.length}` : "none", ok: leakedParent.length === 0 });
    recordAudit({ case: `ffmpeg's environment (${seen.size} ffmpeg process(es) of one job)`, expected: "no storage key, no job secret", got: leakedFfmpeg.length ? `LEAKED ${leakedFfmpeg.length}` : "none", ok: leakedFfmpeg.length === 0 });
    recordAudit({
      case: "ffmpeg's command line",
      expected: "a presigned GET of its own source only (no secret key, no write credential)",
      got: cmdSecrets.length ? `LEAKED ${cmdSecrets.length}` : "presigned GET of its source only",
      ok: cmdSecrets.length === 0,
    });
    expect(leakedParent).toEqual([]);
    expect(leakedFfmpeg).toEqual([]);
    expect(cmdSecrets).toEqual([]);
  });
});

describe("a job's credentials reach only what the job may touch", () => {
  it("extraction credentials: their own source read-only, their own attempt's outputs; nothing else", async () => {
    await uploadSource(h, "creds-own", testVideo("franck.mp4"));
    await uploadSource(h, "creds-other", testVideo("franck.mp4"));
    const c = localJobCredentials(jobMessage("creds-own", KEYFRAMES))!;
    const { read, write } = { read: client(c.read!), write: client(c.write!) };
    const own = sourceObjectKey(USER_ID, "creds-own");
    const other = sourceObjectKey(USER_ID, "creds-other");
    const got = [
      `read own source ${await outcome(read.fetch(url(h.config.videosBucket, own), { method: "HEAD" }))}`,
      `read another video's source ${await outcome(read.fetch(url(h.config.videosBucket, other)))}`,
      `read another video's source with the write credential ${await outcome(write.fetch(url(h.config.videosBucket, other)))}`,
      `overwrite own source ${await outcome(read.fetch(url(h.config.videosBucket, own), { method: "PUT", body: "x" }))}`,
      `delete own source ${await outcome(read.fetch(url(h.config.videosBucket, own), { method: "DELETE" }))}`,
      `delete another video's source ${await outcome(write.fetch(url(h.config.videosBucket, other), { method: "DELETE" }))}`,
      `write own attempt's archive ${await outcome(write.fetch(url(h.config.imagesBucket, archiveObjectKey(USER_ID, "creds-own", 1)), { method: "PUT", body: "zip" }))}`,
      `write another attempt's archive ${await outcome(write.fetch(url(h.config.imagesBucket, archiveObjectKey(USER_ID, "creds-own", 2)), { method: "PUT", body: "x" }))}`,
      `write another video's archive ${await outcome(write.fetch(url(h.config.imagesBucket, archiveObjectKey(USER_ID, "creds-other", 1)), { method: "PUT", body: "x" }))}`,
      `list videos ${await outcome(read.fetch(`${url(h.config.videosBucket)}?list-type=2`))}`,
      `list images ${await outcome(write.fetch(`${url(h.config.imagesBucket)}?list-type=2&prefix=users/`))}`,
      `list buckets ${await outcome(write.fetch(`${h.s3Server.endpoint}/`))}`,
    ];
    const want = [
      "read own source 200",
      "read another video's source 403 AccessDenied",
      "read another video's source with the write credential 403 AccessDenied",
      "overwrite own source 403 AccessDenied",
      "delete own source 403 AccessDenied",
      "delete another video's source 403 AccessDenied",
      "write own attempt's archive 200",
      "write another attempt's archive 403 AccessDenied",
      "write another video's archive 403 AccessDenied",
      "list videos 403 AccessDenied",
      "list images 403 AccessDenied",
      "list buckets 403 AccessDenied",
    ];
    got.forEach((g, i) => recordAudit({ case: `extract credentials: ${want[i]!.replace(/ \d{3}.*$/, "")}`, expected: want[i]!.replace(/^.* (\d{3}.*)$/, "$1"), got: g.replace(/^.* (\d{3}.*)$/, "$1"), ok: g === want[i] }));
    expect(got).toEqual(want);
  });

  it("transcode credentials write under their own attempt prefix only", async () => {
    const message = { type: "MSG_TRANSCODE", payload: { transcodeId: "t1", videoId: "creds-own", userId: USER_ID, attempt: 1 } };
    const write = client(localJobCredentials(message)!.write!);
    const inside = `${transcodeAttemptPrefix(USER_ID, "creds-own", "t1", 1)}hls/720/seg-00001.m4s`;
    const got = [
      await outcome(write.fetch(url(h.config.videosBucket, inside), { method: "PUT", body: "seg" })),
      await outcome(write.fetch(url(h.config.videosBucket, `${transcodeAttemptPrefix(USER_ID, "creds-own", "t1", 2)}720p.mp4`), { method: "PUT", body: "x" })),
      await outcome(write.fetch(url(h.config.videosBucket, `${transcodeAttemptPrefix(USER_ID, "creds-own", "t2", 1)}720p.mp4`), { method: "PUT", body: "x" })),
      await outcome(write.fetch(url(h.config.videosBucket, sourceObjectKey(USER_ID, "creds-own")), { method: "PUT", body: "x" })),
    ].join(", ");
    const want = "200, 403 AccessDenied, 403 AccessDenied, 403 AccessDenied";
    recordAudit({ case: "transcode credentials: own attempt prefix / next attempt / another transcode / the source", expected: want, got, ok: got === want });
    expect(got).toBe(want);
  });
});

describe("the processor uses only the credentials a job carries", () => {
  it("a job without credentials is refused 400 before anything runs", async () => {
    const res = await postJob(h.url, { ...jobMessage("creds-own", KEYFRAMES), credentials: undefined });
    const body = res.body as { type?: string; detail?: string };
    recordAudit({ case: "job without credentials", expected: "400 invalid-job", got: `${res.status} ${body.type?.split("/").pop()}`, ok: res.status === 400 });
    expect(res.status).toBe(400);
    expect(body.type).toMatch(/invalid-job$/);
    expect(body.detail).toMatch(/credentials/);
  });

  it("a job naming another video than its credentials fails before reading it", async () => {
    await uploadSource(h, "creds-victim", testVideo("franck.mp4"));
    const res = await postJob(h.url, { ...jobMessage("creds-victim", KEYFRAMES), credentials: jobCredentials(jobMessage("creds-own", KEYFRAMES, 5)) });
    const last = res.events.at(-1);
    const got = last?.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? `ERROR ${last.payload.errorMessage}` : String(last?.type);
    recordAudit({ case: "job for video B carrying video A's credentials", expected: `ERROR ${OUT_OF_SCOPE_MESSAGE}`, got, ok: got === `ERROR ${OUT_OF_SCOPE_MESSAGE}` });
    expect(got).toBe(`ERROR ${OUT_OF_SCOPE_MESSAGE}`);
  });

  it("expired credentials are refused by the storage: the job fails, nothing is stored", async () => {
    const message = jobMessage("creds-own", KEYFRAMES, 7);
    const expired: JobCredentials = localJobCredentials(message, 1)!;
    await new Promise((r) => setTimeout(r, 1500));
    const res = await postJob(h.url, { ...message, credentials: expired });
    const last = res.events.at(-1);
    const direct = await outcome(client(expired.read!).fetch(url(h.config.videosBucket, sourceObjectKey(USER_ID, "creds-own")), { method: "HEAD" }));
    const stored = await outcome(new AwsClient({ accessKeyId: LOCAL.s3AccessKeyId, secretAccessKey: LOCAL.s3SecretAccessKey, region: LOCAL.s3Region, service: "s3", retries: 0 }).fetch(url(h.config.imagesBucket, archiveObjectKey(USER_ID, "creds-own", 7)), { method: "HEAD" }));
    const got = `job ${last?.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? "ERROR" : String(last?.type)}, HEAD with them ${direct}, archive ${stored}`;
    const want = "job ERROR, HEAD with them 400, archive 404";
    recordAudit({ case: "expired job credentials (job, direct HEAD, output stored)", expected: want, got, ok: got === want });
    expect(got).toBe(want);
    if (last?.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorDescription).toMatch(/ExpiredToken|HTTP 400/);
  });
});
