/**
 * Per-job storage credentials (docs/architecture.md "Storage credentials"): each dispatch mints R2
 * temporary credentials through the Temporary Credentials API (here the stand-in of the real local S3
 * server, tools/stack/r2-temp-credentials.ts) scoped to exactly what the attempt may touch, with a lifetime
 * of the job's deadline plus a margin, sends them in the signed job request, and keeps them out of logs,
 * error messages and D1. The stand-in processor writes every output with the job's write credential, so a
 * job succeeding proves its scope covers its outputs; the checks below prove the scope covers nothing else.
 */
import { AwsClient } from "aws4fetch";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { videos } from "../../schema/db.ts";
import { eq } from "drizzle-orm";
import { archiveObjectKey, manifestObjectKey, sourceObjectKey, transcodeAttemptPrefix } from "../../schema/object-keys.ts";
import type { StorageCredential } from "../../schema/storage-credentials.ts";
import { loadConfig } from "../../edge-api/src/env.ts";
import { processorEnvVars } from "../../edge-api/src/processor/index.ts";
import { extractJob } from "../../edge-api/src/lifecycle/extract-job.ts";
import { importJob } from "../../edge-api/src/lifecycle/import-job.ts";
import { transcodeJob } from "../../edge-api/src/lifecycle/transcode-job.ts";
import { renderCredentials, RENDER_CREDENTIALS_TTL_SECONDS } from "../../edge-api/src/services/images/render-credentials.ts";
import { CREDENTIALS_TTL_MARGIN_SECONDS, CredentialsMintError, mintJobCredentials } from "../../edge-api/src/storage/temp-credentials.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { db, eventually, extractJobMessage, insertVideo, processorCredentials, putSource, runQueue, signUp, testEnv } from "./support/env.ts";

const config = () => loadConfig(testEnv);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const client = (c: StorageCredential) =>
  new AwsClient({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, region: config().s3.region, service: "s3", retries: 0 });
const objectUrl = (bucket: string, key: string) => `${config().s3.endpoint}/${bucket}/${key}`;

let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("credentials");
});

describe("the container's environment", () => {
  it("holds no storage key and no API token: only the endpoint, region and buckets", () => {
    const vars = processorEnvVars(testEnv);
    const c = config();
    const names = Object.keys(vars).filter((n) => /KEY|SECRET_ACCESS|TOKEN/.test(n));
    const values = Object.values(vars).filter((v) => [c.s3.accessKeyId, c.s3.secretAccessKey, c.tempCredentials.apiToken].includes(v));
    const got = names.length + values.length === 0 ? "none" : `LEAKED ${[...names].join(", ")}`;
    recordAudit({ case: "container environment (processorEnvVars)", expected: "no storage key, no API token", got, ok: got === "none" });
    expect(names).toEqual([]);
    expect(values).toEqual([]);
    expect(vars).toMatchObject({ S3_ENDPOINT: c.s3.endpoint, VIDEOS_BUCKET: c.videosBucket, IMAGES_BUCKET: c.imagesBucket, JOB_TIMEOUT_SECONDS: "900", TRANSCODE_TIMEOUT_SECONDS: "7200" });
  });
});

describe("scopes per job kind", () => {
  it("extract reads its source and writes its attempt's archive and manifest; transcode its attempt prefix; import its source", () => {
    const c = config();
    const ref = { id: "v1", userId: "u1", attempt: 3 };
    expect(extractJob.storageScopes(ref, c)).toEqual({
      read: { bucket: c.videosBucket, permission: "object-read-only", objects: [sourceObjectKey("u1", "v1")] },
      write: { bucket: c.imagesBucket, permission: "object-read-write", objects: [archiveObjectKey("u1", "v1", 3), manifestObjectKey("u1", "v1", 3)] },
    });
    expect(transcodeJob.storageScopes({ id: "t1", userId: "u1", attempt: 2, parentId: "v1" }, c)).toEqual({
      read: { bucket: c.videosBucket, permission: "object-read-only", objects: [sourceObjectKey("u1", "v1")] },
      write: { bucket: c.videosBucket, permission: "object-read-write", prefixes: [transcodeAttemptPrefix("u1", "v1", "t1", 2)] },
    });
    expect(importJob.storageScopes(ref, c)).toEqual({
      write: { bucket: c.videosBucket, permission: "object-read-write", objects: [sourceObjectKey("u1", "v1")] },
    });
    expect([extractJob.timeoutSeconds(c), importJob.timeoutSeconds(c), transcodeJob.timeoutSeconds(c)]).toEqual([900, 900, 7200]);
  });
});

describe("extract dispatch", () => {
  it("sends credentials scoped to the attempt, living JOB_TIMEOUT_SECONDS + the margin; they reach nothing else", async () => {
    const id = await insertVideo(owner.userId);
    await putSource(owner.userId, id);
    const other = await insertVideo(owner.userId);
    await putSource(owner.userId, other);
    const before = nowSeconds();
    const result = await runQueue("vidsnap-extract", [extractJobMessage({ videoId: id, userId: owner.userId, attempt: 1 })]);
    expect(result.explicitAcks).toHaveLength(1);
    // The stand-in stored the archive and manifest with the write credential.
    await eventually(async () => (await db.select().from(videos).where(eq(videos.id, id)))[0]?.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS");
    const [credentials] = await processorCredentials(id);
    const { read, write } = credentials!;
    const c = config();
    expect(read).toMatchObject({ bucket: c.videosBucket, permission: "object-read-only", objects: [sourceObjectKey(owner.userId, id)] });
    expect(write).toMatchObject({ bucket: c.imagesBucket, permission: "object-read-write", objects: [archiveObjectKey(owner.userId, id, 1), manifestObjectKey(owner.userId, id, 1)] });
    const ttl = read!.expiresAt - before;
    const wantTtl = c.jobTimeoutSeconds + CREDENTIALS_TTL_MARGIN_SECONDS;
    recordAudit({ case: "extract job credentials: lifetime at dispatch, s", expected: `${wantTtl} (JOB_TIMEOUT_SECONDS + ${CREDENTIALS_TTL_MARGIN_SECONDS})`, got: String(ttl), ok: ttl >= wantTtl && ttl <= wantTtl + 2 });
    recordAudit({
      case: "extract job credentials: scope",
      expected: "read: source object, read-only; write: the attempt's archive and manifest, read-write",
      got: `read: ${read!.objects?.join(",") === sourceObjectKey(owner.userId, id) ? "source object" : read!.objects?.join(",")}, ${read!.permission}; write: ${write!.objects?.length === 2 ? "the attempt's archive and manifest" : write!.objects?.join(",")}, ${write!.permission}`,
      ok: read!.permission === "object-read-only" && write!.permission === "object-read-write" && write!.objects?.length === 2,
    });
    for (const cred of [read!, write!]) {
      expect(cred.accessKeyId).not.toBe(c.s3.accessKeyId);
      expect(cred.expiresAt - before).toBeGreaterThanOrEqual(c.jobTimeoutSeconds + CREDENTIALS_TTL_MARGIN_SECONDS);
      expect(cred.expiresAt - nowSeconds()).toBeLessThanOrEqual(c.jobTimeoutSeconds + CREDENTIALS_TTL_MARGIN_SECONDS + 1);
    }

    const status = async (res: Promise<Response>) => {
      const r = await res;
      const text = await r.text();
      return `${r.status}${/<Code>([^<]+)</.exec(text)?.[1] ? ` ${/<Code>([^<]+)</.exec(text)![1]}` : ""}`;
    };
    const got = [
      `read own source ${await status(client(read!).fetch(objectUrl(c.videosBucket, sourceObjectKey(owner.userId, id)), { method: "HEAD" }))}`,
      `read other source ${await status(client(read!).fetch(objectUrl(c.videosBucket, sourceObjectKey(owner.userId, other))))}`,
      `overwrite own source ${await status(client(read!).fetch(objectUrl(c.videosBucket, sourceObjectKey(owner.userId, id)), { method: "PUT", body: "x" }))}`,
      `read own archive ${await status(client(write!).fetch(objectUrl(c.imagesBucket, archiveObjectKey(owner.userId, id, 1)), { method: "HEAD" }))}`,
      `write attempt 2 ${await status(client(write!).fetch(objectUrl(c.imagesBucket, archiveObjectKey(owner.userId, id, 2)), { method: "PUT", body: "x" }))}`,
      `write other video ${await status(client(write!).fetch(objectUrl(c.imagesBucket, archiveObjectKey(owner.userId, other, 1)), { method: "PUT", body: "x" }))}`,
      `list images ${await status(client(write!).fetch(`${c.s3.endpoint}/${c.imagesBucket}?list-type=2`))}`,
    ].join(", ");
    const want =
      "read own source 200, read other source 403 AccessDenied, overwrite own source 403 AccessDenied, read own archive 200, " +
      "write attempt 2 403 AccessDenied, write other video 403 AccessDenied, list images 403 AccessDenied";
    recordAudit({ case: "extract job credentials (minted by the Worker) used outside their scope", expected: want, got, ok: got === want });
    expect(got).toBe(want);
  });

  it("stores no credential in D1 and hands none back in the API", async () => {
    const id = await insertVideo(owner.userId);
    await putSource(owner.userId, id);
    await runQueue("vidsnap-extract", [extractJobMessage({ videoId: id, userId: owner.userId, attempt: 1 })]);
    await eventually(async () => (await db.select().from(videos).where(eq(videos.id, id)))[0]?.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS");
    const [credentials] = await processorCredentials(id);
    const secrets = [credentials!.read!.secretAccessKey, credentials!.read!.sessionToken, credentials!.write!.secretAccessKey, credentials!.write!.sessionToken];
    const tables = await db.all<{ name: string }>(sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'`);
    let dump = "";
    for (const { name } of tables) dump += JSON.stringify(await db.all(sql.raw(`select * from "${name}"`)));
    const found = secrets.filter((s) => dump.includes(s)).length;
    recordAudit({ case: "job credentials stored in D1 (every table)", expected: "0 of 4 secrets", got: `${found} of 4 secrets`, ok: found === 0 });
    expect(tables.length).toBeGreaterThan(5);
    expect(found).toBe(0);
  });
});

describe("minting", () => {
  it("a refused mint names the API's status and error code, never the token or a credential; nothing is logged", async () => {
    const c = config();
    const logged: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    try {
      const wrongToken = "wrong-token-that-must-not-leak-0123456789";
      const err = await mintJobCredentials({ ...c, tempCredentials: { ...c.tempCredentials, apiToken: wrongToken } }, extractJob.storageScopes({ id: "v", userId: "u", attempt: 1 }, c), 60).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialsMintError);
      expect((err as Error).message).toMatch(/HTTP 403 \(error 10000\)/);
      expect((err as Error).message).not.toContain(wrongToken);
      expect((err as CredentialsMintError).transient).toBe(false);
      const ok = await mintJobCredentials(c, extractJob.storageScopes({ id: "v", userId: "u", attempt: 1 }, c), 60);
      const secrets = [ok.read!.secretAccessKey, ok.read!.sessionToken, ok.write!.secretAccessKey, ok.write!.sessionToken, c.tempCredentials.apiToken];
      const leaked = logged.filter((line) => secrets.some((s) => line.includes(s)) || line.includes(wrongToken));
      recordAudit({ case: "credential minting: log lines holding a credential or the API token", expected: "0", got: String(leaked.length), ok: leaked.length === 0 });
      expect(leaked).toEqual([]);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("an unreachable API is a transient failure", async () => {
    const c = config();
    const err = await mintJobCredentials({ ...c, tempCredentials: { ...c.tempCredentials, apiBaseUrl: "http://127.0.0.1:9/client/v4" } }, importJob.storageScopes({ id: "v", userId: "u", attempt: 1 }, c), 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsMintError);
    expect((err as CredentialsMintError).transient).toBe(true);
  });

  it("renders get a read-only credential of the source, reused for the same video while it lasts", async () => {
    const c = config();
    const first = await renderCredentials(c, owner.userId, "video-a");
    const again = await renderCredentials(c, owner.userId, "video-a");
    const otherVideo = await renderCredentials(c, owner.userId, "video-b");
    expect(first.write).toBeUndefined();
    expect(first.read).toMatchObject({ bucket: c.videosBucket, permission: "object-read-only", objects: [sourceObjectKey(owner.userId, "video-a")] });
    expect(first.read!.expiresAt - nowSeconds()).toBeGreaterThan(RENDER_CREDENTIALS_TTL_SECONDS - 5);
    expect(again.read!.accessKeyId).toBe(first.read!.accessKeyId);
    expect(otherVideo.read!.accessKeyId).not.toBe(first.read!.accessKeyId);
  });
});
