/**
 * Test harness of the processor suites: a real SigV4-checking S3 server (@20minutes/s3rver on a free
 * loopback port, data under the OS temp folder), the processor server started in-process on port 0
 * with its own TMPDIR, helpers to upload a test video, post a job and read its NDJSON events, fetch the
 * archive and manifest, and ffprobe facts computed independently of the processor.
 */
import { execFile } from "node:child_process";
import { createReadStream, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { unzipSync } from "fflate";
import { LOCAL } from "../../tools/stack/local-config.ts";
import { startS3Server, type S3ServerHandle } from "../../tools/stack/s3-server.ts";
import { IMAGE_FORMATS, type ExtractionOptions, type ImageFormat } from "../../schema/extraction-options.ts";
import { Manifest } from "../../schema/manifest.ts";
import { ExtractSnapshotEvent, type ExtractSnapshotMessage } from "../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey, s3Uri, sourceObjectKey } from "../../schema/object-keys.ts";
import { expect } from "vitest";
import { signJobRequest } from "../../runtime/job-signature.ts";
import { createLogger } from "../../runtime/log.ts";
import { DEFAULT_LIMITS, type ProcessorConfig } from "../../ffmpeg-container/src/config.ts";
import { imageEntryName } from "../../ffmpeg-container/src/jobs/extract/archive.ts";
import { createProcessorServer, type ProcessorServer } from "../../ffmpeg-container/src/runner/server.ts";
import { createS3Client, type S3ClientFactory } from "../../ffmpeg-container/src/s3.ts";
import { localJobCredentials } from "../../tools/stack/r2-temp-credentials.ts";
import { credentialSecrets, type JobCredentials } from "../../schema/storage-credentials.ts";

import { SOURCE_CACHE_FOLDER_PREFIX } from "../../ffmpeg-container/src/sources/source-cache.ts";
export { testVideo, TESTDATA_DIR } from "../../tools/paths.ts";

const run = promisify(execFile);

export const USER_ID = "user-test";
/** PROCESSOR_SHARED_SECRET of the harness's processors; {@link signedJobInit} signs with it. */
export const TEST_SHARED_SECRET = "processor-test-shared-secret-0123456789abcdef";

/** The S3 server's own key pair: the harness plays the Worker and the uploader with it, never the processor. */
export const ADMIN_KEY = { accessKeyId: LOCAL.s3AccessKeyId, secretAccessKey: LOCAL.s3SecretAccessKey } as const;

/**
 * The storage credentials the Worker would send with `body` ({@link localJobCredentials}: minted by the local
 * S3 server's stand-in, so that a test may stop the server and still post a job), remembered for
 * {@link mintedCredentialSecrets}.
 * @returns undefined for a body that is no job or render
 */
export function jobCredentials(body: unknown): JobCredentials | undefined {
  const credentials = localJobCredentials(body);
  if (credentials) MINTED_SECRETS.push(...credentialSecrets(credentials));
  return credentials;
}

const MINTED_SECRETS: string[] = [];
/** Secret keys and session tokens of every credential {@link jobCredentials} minted in this test file (none may leak). */
export const mintedCredentialSecrets = (): readonly string[] => MINTED_SECRETS;

/**
 * A signed `POST /jobs` (or `/renders`) request (runtime/job-signature.ts, as the Worker sends it). A job or
 * render object without `credentials` gets those of {@link jobCredentials}, as the Worker adds them.
 * @param body the envelope (serialised here) or a raw string (sent as is)
 * @param opts.secret another secret (tests of refusals); opts.nowSeconds another signing time
 */
export async function signedJobInit(body: unknown, opts: { secret?: string; nowSeconds?: number } = {}): Promise<RequestInit> {
  if (body && typeof body === "object" && !("credentials" in body)) {
    const credentials = jobCredentials(body);
    if (credentials) body = { ...body, credentials };
  }
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signature = await signJobRequest(opts.secret ?? TEST_SHARED_SECRET, text, opts.nowSeconds);
  return { method: "POST", headers: { "content-type": "application/json", ...signature }, body: text };
}

export interface Harness {
  s3Server: S3ServerHandle;
  s3: S3Client;
  config: ProcessorConfig;
  processor: ProcessorServer;
  /** Base URL of the processor. */
  url: string;
  /** The processor's TMPDIR (must be empty between jobs). */
  tmpDir: string;
  /** Root of everything this harness wrote. */
  dataDir: string;
  /** Log records the processor wrote. */
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
  /** Starts one more processor on the same S3 server with other settings (and S3 clients), logging into `logs`. */
  extraProcessor(overrides: Partial<ProcessorConfig>, deps?: { s3Client?: S3ClientFactory }): Promise<{ processor: ProcessorServer; url: string }>;
  close(): Promise<void>;
}

/** Starts S3 + processor. @param overrides config fields to change (e.g. jobTimeoutSeconds) */
export async function startHarness(overrides: Partial<ProcessorConfig> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-processor-test-"));
  const tmpDir = path.join(dataDir, "tmp");
  await mkdir(tmpDir);
  const s3Server = await startS3Server({ directory: path.join(dataDir, "s3"), port: 0 });
  const config: ProcessorConfig = {
    host: "127.0.0.1",
    port: 0,
    s3: {
      endpoint: s3Server.endpoint,
      region: LOCAL.s3Region,
      forcePathStyle: true,
    },
    videosBucket: LOCAL.videosBucket,
    imagesBucket: LOCAL.imagesBucket,
    sharedSecret: TEST_SHARED_SECRET,
    maxConcurrentJobs: 2,
    jobTimeoutSeconds: 60,
    ...DEFAULT_LIMITS,
    tmpDir,
    progressIntervalMs: 2000,
    ...overrides,
  };
  const logs: Harness["logs"] = [];
  const log = createLogger({}, {
    minLevel: "debug",
    sink: (_level, line) => {
      const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown> & { level: string; msg: string };
      logs.push({ level, msg, fields });
    },
  });
  const extras: ProcessorServer[] = [];
  const processor = createProcessorServer(config, { log });
  const url = await processor.listen();
  const s3 = createS3Client(config.s3, ADMIN_KEY);
  return {
    s3Server,
    s3,
    config,
    processor,
    url,
    tmpDir,
    dataDir,
    logs,
    async extraProcessor(more, deps = {}) {
      const p = createProcessorServer({ ...config, ...more }, { log, ...deps });
      extras.push(p);
      return { processor: p, url: await p.listen() };
    },
    async close(this: Harness) {
      await Promise.all([processor, ...extras].map((p) => p.close({ abortRunning: true })));
      s3.destroy();
      // The S3 server now up: a test may have stopped the first one and started another (same port and folder).
      await this.s3Server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Uploads a local file as the source object of (USER_ID, videoId).
 * @returns its ETag (what the API records at `complete` and sends as `sourceEtag`)
 */
export async function uploadSource(h: Harness, videoId: string, file: string): Promise<string> {
  const out = await h.s3.send(
    new PutObjectCommand({
      Bucket: h.config.videosBucket,
      Key: sourceObjectKey(USER_ID, videoId),
      Body: createReadStream(file),
      ContentLength: statSync(file).size,
      ContentType: "application/octet-stream",
    }),
  );
  return out.ETag!;
}

/** A valid MSG_EXTRACT_SNAPSHOT envelope. */
export function jobMessage(videoId: string, options: ExtractionOptions, attempt = 1): ExtractSnapshotMessage {
  return {
    type: "MSG_EXTRACT_SNAPSHOT",
    sender: "VIDEO_API_SERVICE",
    target: "VIDEO_IMAGE_PROCESSOR_SERVICE",
    payload: { videoId, userId: USER_ID, attempt, options },
  };
}

export interface JobResponse<E = ExtractSnapshotEvent> {
  status: number;
  contentType: string | null;
  events: E[];
  /** Raw body when not NDJSON (problem+json). */
  body: unknown;
}

/** Schema of the event lines a test reads (extraction events unless given). */
type EventSchema<E> = { parse(value: unknown): E };
const extractEvents = ExtractSnapshotEvent as unknown as EventSchema<never>;

/**
 * POSTs a body to /jobs and reads the whole answer; NDJSON lines are parsed with `schema` (default
 * ExtractSnapshotEvent; throws on any invalid line).
 */
export async function postJob<E = ExtractSnapshotEvent>(
  baseUrl: string,
  body: unknown,
  init: RequestInit = {},
  schema: EventSchema<E> = extractEvents,
): Promise<JobResponse<E>> {
  const res = await fetch(`${baseUrl}/jobs`, { ...(await signedJobInit(body)), ...init });
  const text = await res.text();
  const contentType = res.headers.get("content-type");
  if (contentType?.startsWith("application/x-ndjson")) {
    const lines = text.split("\n").filter(Boolean);
    return { status: res.status, contentType, events: lines.map((l) => schema.parse(JSON.parse(l))), body: undefined };
  }
  return { status: res.status, contentType, events: [], body: text ? JSON.parse(text) : undefined };
}

/**
 * Starts a job and resolves once its first NDJSON line arrived (the job is running).
 * @param schema of the event lines (default ExtractSnapshotEvent)
 * @returns the rest of the response (to await) and an abort function (client disconnect)
 */
export async function startJob<E = ExtractSnapshotEvent>(
  baseUrl: string,
  body: unknown,
  schema: EventSchema<E> = extractEvents,
): Promise<{ first: E; rest: Promise<E[]>; disconnect(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/jobs`, { ...(await signedJobInit(body)), signal: controller.signal });
  if (res.status !== 200) throw new Error(`job not started: ${res.status} ${await res.text()}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
  }
  const nl = buf.indexOf("\n");
  const first = schema.parse(JSON.parse(buf.slice(0, nl)));
  buf = buf.slice(nl + 1);
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
    }
    return buf.split("\n").filter(Boolean).map((l) => schema.parse(JSON.parse(l)));
  })();
  rest.catch(() => undefined);
  return { first, rest, disconnect: () => controller.abort() };
}

/** One command of the processor's S3 clients as a {@link hookedS3Clients} hook sees it. */
export interface S3Call {
  /** e.g. `HeadObjectCommand`, `PutObjectCommand` */
  command: string;
  bucket: string;
  key: string;
}

/**
 * S3 clients for a processor (`extraProcessor(…, { s3Client })`) that run `hook` around every command of
 * every job's clients: it may record the call, wait before or after `send()` (the real command), or throw
 * instead (an injected failure).
 */
export function hookedS3Clients(hook: (call: S3Call, send: () => Promise<unknown>) => Promise<unknown>): S3ClientFactory {
  return (settings, key) => {
    const client = createS3Client(settings, key);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; Key?: string };
        const call = { command: context.commandName ?? "", bucket: input.Bucket ?? "", key: input.Key ?? "" };
        return (await hook(call, () => next(args))) as Awaited<ReturnType<typeof next>>;
      },
      { step: "initialize", name: "testHook" },
    );
    return client;
  };
}

/** Reads an S3 object fully. */
export async function getObject(h: Harness, bucket: string, key: string): Promise<Uint8Array> {
  const out = await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToByteArray();
}

/** True when the object exists (HEAD 200), false on 404. */
export async function objectExists(h: Harness, bucket: string, key: string): Promise<boolean> {
  try {
    await h.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

/** Downloads and unzips the archive of (USER_ID, videoId, attempt); returns entries, raw size and both manifests. */
export async function fetchArchive(h: Harness, videoId: string, attempt = 1) {
  const zip = await getObject(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, attempt));
  const entries = unzipSync(zip);
  const manifest = Manifest.parse(JSON.parse(new TextDecoder().decode(entries["manifest.json"])));
  const standalone = JSON.parse(
    new TextDecoder().decode(await getObject(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, attempt))),
  ) as unknown;
  return { zip, entries, manifest, standalone };
}

/**
 * Files left in the processor's TMPDIR: everything but the local copies of sources
 * (ffmpeg-container/src/sources/source-cache.ts), which outlive jobs on purpose, except an unfinished
 * download (`.part`), which must not.
 */
export async function leftoverTempFiles(h: Harness): Promise<string[]> {
  const left: string[] = [];
  for (const name of await readdir(h.tmpDir)) {
    if (!name.startsWith(SOURCE_CACHE_FOLDER_PREFIX)) left.push(name);
    else for (const f of await readdir(path.join(h.tmpDir, name))) if (f.endsWith(".part")) left.push(`${name}/${f}`);
  }
  return left;
}

/** Number of video packets flagged K by ffprobe (what "keyframes" means, testdata README). */
export async function ffprobeKeyframeCount(file: string): Promise<number> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0", file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split("\n").filter((l) => l.includes("K")).length;
}

/**
 * Presentation times of every decoded video frame, seconds from the file's start, as the ffmpeg CLI
 * sees them: best-effort timestamp × stream time base − format start_time; plus the duration.
 */
export async function ffprobeFrameTimes(file: string): Promise<{ times: number[]; duration: number }> {
  const { stdout } = await run(
    "ffprobe",
    [
      "-v", "error",
      "-select_streams", "v:0",
      "-show_entries", "frame=best_effort_timestamp:stream=time_base:format=start_time,duration",
      "-of", "json",
      file,
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const j = JSON.parse(stdout) as {
    frames: { best_effort_timestamp?: number }[];
    streams: { time_base: string }[];
    format: { start_time?: string; duration?: string };
  };
  const [num, den] = j.streams[0]!.time_base.split("/").map(Number) as [number, number];
  const start = Number(j.format.start_time ?? 0);
  const times = j.frames
    .filter((f) => f.best_effort_timestamp !== undefined)
    .map((f) => (f.best_effort_timestamp! * num) / den - start);
  return { times, duration: Number(j.format.duration) };
}

/** Presentation times of the key-flagged video packets, seconds from the start, sorted. */
export async function ffprobeKeyframeTimes(file: string): Promise<number[]> {
  const { stdout } = await run(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags:format=start_time", "-of", "json", file],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const j = JSON.parse(stdout) as { packets: { pts_time?: string; flags: string }[]; format: { start_time?: string } };
  const start = Number(j.format.start_time ?? 0);
  return j.packets
    .filter((p) => p.flags.includes("K") && p.pts_time !== undefined)
    .map((p) => Number(p.pts_time) - start)
    .sort((a, b) => a - b);
}

/**
 * Decodes an image (JPEG by default) with ffmpeg. @returns ffmpeg's stderr at level error (empty when clean)
 * @throws when ffmpeg exits non-zero
 */
export async function decodeJpeg(dir: string, bytes: Uint8Array, format: ImageFormat = "jpeg"): Promise<string> {
  const file = path.join(dir, `check-${process.pid}-${Math.random().toString(36).slice(2)}.${IMAGE_FORMATS[format].extension}`);
  await writeFile(file, bytes);
  try {
    const { stderr } = await run("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-f", "null", "-"]);
    return stderr;
  } finally {
    await rm(file, { force: true });
  }
}

/** Waits until `fn` returns true (polling every 50 ms). @throws after `timeoutMs` */
export async function waitUntil(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** True when `bytes` start (and, for JPEG, end) with the format's magic numbers. */
export function hasImageMagic(bytes: Uint8Array, format: ImageFormat): boolean {
  const b = Buffer.from(bytes);
  switch (format) {
    case "jpeg":
      return b[0] === 0xff && b[1] === 0xd8 && b.at(-2) === 0xff && b.at(-1) === 0xd9;
    case "png":
      return b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) && b.subarray(-8, -4).toString("latin1") === "IEND";
    case "webp":
      return b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP" && b.readUInt32LE(4) + 8 === b.length;
  }
}

/**
 * Runs one job end to end and checks everything that must hold for every successful job: the event
 * sequence, the SUCCESS payload, the archive layout, the manifest (schema, entries, stand-alone copy),
 * JPEG framing of every image, a clean decode of the first and last image, and an empty TMPDIR.
 * @returns the manifest and the SUCCESS payload for mode-specific assertions
 */
export async function runSuccessfulJob(h: Harness, videoId: string, file: string, options: ExtractionOptions, processorUrl = h.url) {
  await uploadSource(h, videoId, file);
  const res = await postJob(processorUrl, jobMessage(videoId, options));
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^application\/x-ndjson/);
  const { events } = res;
  const last = events.at(-1)!;
  expect(last.type, JSON.stringify(last)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
  expect(events[0]!.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
  expect(events[0]!.payload).not.toHaveProperty("progress");
  // Then PROGRESS (fractions never down, ≤ 1) and heartbeats (bare PROCESSING) until the final event.
  let fraction = 0;
  for (const e of events.slice(1, -1)) {
    if (e.type === "MSG_EXTRACT_SNAPSHOT_PROCESSING") {
      expect(e.payload).not.toHaveProperty("progress");
      continue;
    }
    expect(e.type).toBe("MSG_EXTRACT_SNAPSHOT_PROGRESS");
    if (e.type !== "MSG_EXTRACT_SNAPSHOT_PROGRESS") throw new Error("unreachable");
    expect(e.payload.fraction).toBeGreaterThanOrEqual(fraction);
    expect(e.payload.fraction).toBeLessThanOrEqual(1);
    fraction = e.payload.fraction;
  }
  for (const e of events) {
    expect(e.sender).toBe("VIDEO_IMAGE_PROCESSOR_SERVICE");
    expect(e.target).toBe("VIDEO_API_SERVICE");
    expect(e.payload).toMatchObject({ videoId, userId: USER_ID, attempt: 1 });
  }
  if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
  const success = last.payload;
  expect(success.archiveUri).toBe(s3Uri(h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1)));
  expect(success.manifestUri).toBe(s3Uri(h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1)));

  const { zip, entries, manifest, standalone } = await fetchArchive(h, videoId);
  expect(success.zipSizeBytes).toBe(zip.byteLength);
  expect(success.imageCount).toBe(manifest.images.length);
  expect(standalone).toEqual(manifest);
  const format = options.format ?? "jpeg";
  expect(manifest).toMatchObject({ version: 1, videoId, attempt: 1, imageFormat: format, contentType: IMAGE_FORMATS[format].contentType, options });
  expect(manifest.source).toEqual(success.source);
  expect(Object.keys(entries).sort()).toEqual([...manifest.images.map((i) => i.fileName), "manifest.json"].sort());
  manifest.images.forEach((image, i) => {
    expect(image.index).toBe(i);
    expect(image.fileName).toBe(imageEntryName(i, image.timestampSeconds, format));
    expect(image.contentType).toBe(IMAGE_FORMATS[format].contentType);
    const bytes = entries[image.fileName]!;
    expect(bytes.byteLength).toBe(image.bytes);
    expect(hasImageMagic(bytes, format), image.fileName).toBe(true);
    if (i > 0) expect(image.timestampSeconds).toBeGreaterThan(manifest.images[i - 1]!.timestampSeconds);
  });
  for (const image of [manifest.images[0]!, manifest.images.at(-1)!]) {
    expect(await decodeJpeg(h.dataDir, entries[image.fileName]!, format)).toBe("");
  }
  expect(await leftoverTempFiles(h)).toEqual([]);
  expect(h.processor.runningJobs()).toBe(0);
  return { manifest, success, events, entries };
}
