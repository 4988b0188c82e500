/**
 * The typed client and the CLI, the parts that need no stack: error mapping of the typed client
 * (problem details → VidsnapApiError), its polling helper and redirect handling against a scripted fetch,
 * the CLI's exit-code mapping, interval parsing, credentials file (mode 0600, one token per API URL,
 * priority of flags / env / file), the progress output (TTY bar vs plain lines vs --json) and the transcode
 * flags (renditions, the optional `--hls` ladder, speed and ETA in the bar), the `events` timeline (pages
 * followed, oldest first, one line per change).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import {
  archiveUrl,
  createVidsnapClient,
  formatEta,
  toApiError,
  unwrap,
  VidsnapApiError,
  waitForTranscode,
  waitForVideo,
  type Transcode,
  type Video,
  type VideoEvent,
} from "../../client/src/index.ts";
import { UploadError } from "../../client/src/upload.ts";
import { parseInterval } from "../../cli/src/commands/upload.ts";
import { eventTable, listVideoEvents } from "../../cli/src/commands/events.ts";
import { runCli } from "../../cli/src/cli.ts";
import {
  normalizeHlsFlag,
  transcodeProgressSuffix,
  transcodeRequestFromFlags,
  transcodeRequestFromSpecs,
} from "../../cli/src/commands/transcode.ts";
import {
  CliError,
  createContext,
  credentialsPath,
  describeError,
  loadCredential,
  normalizeApiUrl,
  parseStatus,
  saveCredential,
  type CliIO,
} from "../../cli/src/context.ts";
import { createProgressBar, renderBar } from "../../cli/src/progress.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-units-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const problem = (status: number, kind: string, detail = "d") =>
  new Response(JSON.stringify({ type: `https://vidsnap.dev/problems/${kind}`, title: kind, status, detail, requestId: "req-1" }), {
    status,
    headers: { "content-type": "application/problem+json", "x-request-id": "req-1" },
  });

const videoOf = (status: Video["status"], progress: number | null = null): Video => ({
  id: "v1",
  filename: "a.mp4",
  contentType: "video/mp4",
  sizeBytes: 10,
  status,
  options: { mode: "keyframes" },
  attempt: 1,
  progress,
  imageCount: null,
  zipSizeBytes: null,
  durationSeconds: null,
  errorMessage: null,
  errorDescription: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  queuedAt: null,
  processingStartedAt: null,
  completedAt: null,
} as Video);

/** A fetch answering the scripted responses in order and recording the requests. */
function scriptedFetch(answers: (Response | Error)[]) {
  const requests: Request[] = [];
  const fn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    requests.push(req);
    const next = answers.shift();
    if (!next) throw new Error("no more scripted answers");
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch: fn as typeof fetch, requests };
}

describe("typed client errors", () => {
  it("turns problem details into VidsnapApiError with kind and request id", async () => {
    const res = problem(409, "not-ready", "Images are not ready yet.");
    const err = toApiError(res, await res.json());
    expect(err).toBeInstanceOf(VidsnapApiError);
    expect(err).toMatchObject({ status: 409, kind: "not-ready", detail: "Images are not ready yet.", requestId: "req-1" });
    expect(err.message).toBe("not-ready: Images are not ready yet.");
  });

  it("reads /api/auth problems with better-auth's code", () => {
    const body = {
      type: "https://vidsnap.dev/problems/unauthorized",
      title: "Unauthorized",
      status: 401,
      detail: "Invalid email or password",
      requestId: "r2",
      code: "INVALID_EMAIL_OR_PASSWORD",
    };
    const err = toApiError(new Response(null, { status: 401 }), JSON.stringify(body));
    expect(err).toMatchObject({ status: 401, kind: "unauthorized", detail: "Invalid email or password", requestId: "r2" });
    expect(err.message).toBe("Unauthorized: Invalid email or password");
    expect((err.problem as { code?: string }).code).toBe("INVALID_EMAIL_OR_PASSWORD");
  });

  it("copes with `{message}` JSON bodies, raw text and empty bodies", () => {
    const auth = toApiError(new Response(null, { status: 401 }), { code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password" });
    expect(auth).toMatchObject({ status: 401, kind: "http-401", detail: "Invalid email or password" });
    const text = toApiError(new Response(null, { status: 502, headers: { "x-request-id": "r9" } }), "<html>bad gateway</html>");
    expect(text).toMatchObject({ status: 502, detail: "<html>bad gateway</html>", requestId: "r9" });
    const json = toApiError(new Response(null, { status: 404 }), '{"type":"https://vidsnap.dev/problems/not-found","title":"Not found","detail":"x"}');
    expect(json.kind).toBe("not-found");
    expect(toApiError(new Response(null, { status: 500 }), undefined).message).toBe("HTTP 500");
  });

  it("the client sends the bearer token; unwrap throws on non-2xx", async () => {
    const { fetch, requests } = scriptedFetch([problem(404, "not-found")]);
    const api = createVidsnapClient({ baseUrl: "http://api.test/", token: "tok-1", fetch });
    const result = await api.GET("/v1/videos/{id}", { params: { path: { id: "a/b" } } });
    expect(requests[0]!.url).toBe("http://api.test/v1/videos/a%2Fb");
    expect(requests[0]!.headers.get("authorization")).toBe("Bearer tok-1");
    expect(() => unwrap(result)).toThrow(VidsnapApiError);
  });

  it("waitForVideo polls until a final status, retries transient failures, stops on 404", async () => {
    const ok = (v: Video) => Response.json({ video: v });
    const { fetch } = scriptedFetch([
      problem(503, "service-unavailable"),
      new TypeError("fetch failed"),
      ok(videoOf("VIDEO_IMAGE_EXTRACTION_QUEUED")),
      ok(videoOf("VIDEO_IMAGE_EXTRACTION_PROCESSING", 0.5)),
      ok(videoOf("VIDEO_IMAGE_EXTRACTION_SUCCESS", 1)),
    ]);
    const api = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch });
    const seen: (number | null)[] = [];
    const final = await waitForVideo(api, "v1", { initialDelayMs: 1, maxDelayMs: 2, onUpdate: (v) => seen.push(v.progress) });
    expect(final.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(seen).toEqual([null, 0.5, 1]);

    const gone = scriptedFetch([problem(404, "not-found")]);
    const api2 = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch: gone.fetch });
    await expect(waitForVideo(api2, "v1", { initialDelayMs: 1 })).rejects.toMatchObject({ status: 404 });

    const down = scriptedFetch(Array.from({ length: 6 }, () => new TypeError("fetch failed")));
    const api3 = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch: down.fetch });
    await expect(waitForVideo(api3, "v1", { initialDelayMs: 1, maxDelayMs: 1 })).rejects.toThrow("fetch failed");
    expect(down.requests).toHaveLength(5);
  });

  it("waitForTranscode polls the transcode until SUCCESS or ERROR, reporting progress, speed and ETA", async () => {
    const t = (status: Transcode["status"], progress: number | null, speed: number | null = null) =>
      Response.json({ transcode: { id: "t1", videoId: "v1", status, progress, speed, etaSeconds: speed ? 3 : null, outputs: [] } });
    const { fetch, requests } = scriptedFetch([
      t("TRANSCODE_PENDING", null),
      problem(502, "bad-gateway"),
      t("TRANSCODE_PROCESSING", 0.4, 2.5),
      t("TRANSCODE_ERROR", 0.4),
    ]);
    const api = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch });
    const seen: string[] = [];
    const final = await waitForTranscode(api, "v1", "t1", { initialDelayMs: 1, maxDelayMs: 2, onUpdate: (x) => seen.push(`${x.status}:${x.progress}:${x.speed}`) });
    expect(final.status).toBe("TRANSCODE_ERROR");
    expect(seen).toEqual(["TRANSCODE_PENDING:null:null", "TRANSCODE_PROCESSING:0.4:2.5", "TRANSCODE_ERROR:0.4:null"]);
    expect(new URL(requests[0]!.url).pathname).toBe("/v1/videos/v1/transcodes/t1");
    const slow = scriptedFetch(Array.from({ length: 50 }, () => t("TRANSCODE_QUEUED", null)));
    const api2 = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch: slow.fetch });
    await expect(waitForTranscode(api2, "v1", "t1", { initialDelayMs: 1, maxDelayMs: 1, timeoutMs: 20 })).rejects.toThrow(/transcode t1 still TRANSCODE_QUEUED/);
  });

  it("archiveUrl returns the redirect target without following it; 409 becomes not-ready", async () => {
    const { fetch, requests } = scriptedFetch([
      new Response(null, { status: 302, headers: { location: "http://s3.test/zip?sig=1" } }),
      problem(409, "not-ready"),
    ]);
    const api = createVidsnapClient({ baseUrl: "http://api.test", token: "t", fetch });
    expect(await archiveUrl(api, "v1")).toBe("http://s3.test/zip?sig=1");
    expect(requests[0]!.redirect).toBe("manual");
    await expect(archiveUrl(api, "v1")).rejects.toMatchObject({ status: 409, kind: "not-ready" });
  });
});

describe("CLI exit codes and parsing", () => {
  it("maps API, upload and network errors to the documented exit codes", () => {
    const api = (status: number) => new VidsnapApiError(status, { type: "https://vidsnap.dev/problems/x", title: "t", detail: "d" });
    expect(describeError(api(401)).exitCode).toBe(3);
    expect(describeError(api(403)).exitCode).toBe(3);
    expect(describeError(api(404)).exitCode).toBe(4);
    expect(describeError(api(409)).exitCode).toBe(5);
    for (const s of [400, 413, 415, 422]) expect(describeError(api(s)).exitCode).toBe(2);
    expect(describeError(api(500)).exitCode).toBe(1);
    expect(describeError(new UploadError("complete answered 409", { status: 409 })).exitCode).toBe(5);
    const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    expect(describeError(refused)).toEqual({ exitCode: 6, message: "network error: fetch failed (ECONNREFUSED)" });
    expect(describeError(new UploadError("Upload to the storage failed: fetch failed", { cause: refused })).exitCode).toBe(6);
    expect(describeError(new CliError("x", 2)).exitCode).toBe(2);
    expect(describeError(new Error("boom"))).toEqual({ exitCode: 1, message: "boom" });
  });

  it("parses --every durations and refuses others with exit 2", () => {
    expect(parseInterval("10")).toBe(10);
    expect(parseInterval("10s")).toBe(10);
    expect(parseInterval("1.5s")).toBe(1.5);
    expect(parseInterval("500ms")).toBe(0.5);
    expect(parseInterval("2m")).toBe(120);
    for (const bad of ["ten", "0", "0s", "-1", "10h", "", "1e3"]) {
      expect(() => parseInterval(bad), bad).toThrow(CliError);
    }
  });

  it("accepts short and full status names", () => {
    expect(parseStatus("success")).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(parseStatus("pending")).toBe("VIDEO_UPLOAD_PENDING");
    expect(parseStatus("VIDEO_IMAGE_EXTRACTION_ERROR")).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    expect(() => parseStatus("done")).toThrow(CliError);
  });
});

describe("credentials", () => {
  const io = (env: NodeJS.ProcessEnv): CliIO => ({
    stdout: { write: () => true },
    stderr: { write: () => true },
    stdin: Readable.from([]),
    env,
    cwd: tmp,
  });

  it("are stored per API URL in $XDG_CONFIG_HOME/vidsnap/credentials.json, mode 0600 in a 0700 folder", () => {
    const env = { XDG_CONFIG_HOME: path.join(tmp, "xdg") };
    const file = credentialsPath(env);
    expect(file).toBe(path.join(tmp, "xdg", "vidsnap", "credentials.json"));
    const cred = (token: string) => ({ token, email: "a@example.com", userId: "u", savedAt: "now" });
    saveCredential(file, "http://127.0.0.1:8787/", cred("one"));
    saveCredential(file, "https://API.example.com", cred("two"));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(loadCredential(file, "http://127.0.0.1:8787")?.token).toBe("one");
    expect(loadCredential(file, "https://api.example.com/")?.token).toBe("two");
    expect(loadCredential(file, "http://127.0.0.1:9999")).toBeUndefined();
    saveCredential(file, "http://127.0.0.1:8787", undefined);
    expect(Object.keys((JSON.parse(readFileSync(file, "utf8")) as { servers: object }).servers)).toEqual(["https://api.example.com"]);
    expect(credentialsPath({ HOME: "/home/x" })).toMatch(/\.config\/vidsnap\/credentials\.json$/);
  });

  it("--token beats VIDSNAP_TOKEN beats the file; --api-url beats VIDSNAP_API_URL beats the default", () => {
    const env = { XDG_CONFIG_HOME: path.join(tmp, "prio") };
    saveCredential(credentialsPath(env), "http://127.0.0.1:8787", { token: "from-file", email: "e", userId: "u", savedAt: "s" });
    expect(createContext(io(env), {}).token).toBe("from-file");
    expect(createContext(io({ ...env, VIDSNAP_TOKEN: "from-env" }), {}).token).toBe("from-env");
    expect(createContext(io({ ...env, VIDSNAP_TOKEN: "from-env" }), { token: "from-flag" }).token).toBe("from-flag");
    expect(createContext(io(env), {}).apiUrl).toBe("http://127.0.0.1:8787");
    expect(createContext(io({ ...env, VIDSNAP_API_URL: "http://h:1/" }), {}).apiUrl).toBe("http://h:1");
    expect(createContext(io({ ...env, VIDSNAP_API_URL: "http://h:1" }), { apiUrl: "http://f:2" })).toMatchObject({ apiUrl: "http://f:2", token: undefined });
    expect(() => normalizeApiUrl("ftp://x")).toThrow(CliError);
    expect(() => normalizeApiUrl("not a url")).toThrow(CliError);
  });
});

describe("progress output", () => {
  const ctxWith = (isTTY: boolean, json = false) => {
    let out = "";
    const ctx = createContext(
      { stdout: { write: () => true }, stderr: { write: (t: string) => (out += t), isTTY }, stdin: Readable.from([]), env: {}, cwd: tmp },
      { json, apiUrl: "http://x" },
    );
    return { ctx, output: () => out };
  };

  it("draws a redrawn bar on a terminal", async () => {
    const { ctx, output } = ctxWith(true);
    const bar = createProgressBar(ctx, "upload");
    bar.update(0.5, "half");
    bar.done("all");
    expect(output()).toBe(`\rupload     ${renderBar(0.5)} half\x1b[K\rupload     ${renderBar(1)} all\x1b[K\n`);
  });

  it("prints plain throttled lines otherwise, and nothing with --json", () => {
    const plain = ctxWith(false);
    const bar = createProgressBar(plain.ctx, "extraction");
    bar.update(0.1);
    bar.update(0.2); // within 2 s of the previous line: skipped
    bar.done("error", 0.2);
    expect(plain.output().split("\n")).toEqual([`extraction ${renderBar(0.1)}`, `extraction ${renderBar(0.2)} error`, ""]);
    expect(plain.output()).not.toContain("\r");

    const json = ctxWith(true, true);
    const silent = createProgressBar(json.ctx, "upload");
    silent.update(0.5);
    silent.done();
    expect(json.output()).toBe("");
  });

  it("renders fractions clamped to 0..1", () => {
    expect(renderBar(0, 10)).toBe("[----------]   0%");
    expect(renderBar(0.42, 10)).toBe("[####------]  42%");
    expect(renderBar(7, 10)).toBe("[##########] 100%");
    expect(renderBar(Number.NaN, 10)).toBe("[----------]   0%");
  });
});

describe("upload flags → extraction options", () => {
  it("builds each mode with the common options, and refuses conflicts with exit 2", async () => {
    const { extractionOptionsFromFlags } = await import("../../cli/src/commands/upload.ts");
    expect(extractionOptionsFromFlags({})).toBeUndefined();
    expect(extractionOptionsFromFlags({ keyframes: true })).toEqual({ mode: "keyframes" });
    expect(extractionOptionsFromFlags({ format: "webp", quality: "80", "max-width": "640" })).toEqual({
      mode: "keyframes",
      format: "webp",
      quality: 80,
      maxWidth: 640,
    });
    expect(extractionOptionsFromFlags({ every: "2m", accuracy: "keyframe", start: "0", end: "10m", "max-images": "5" })).toEqual({
      mode: "interval",
      intervalSeconds: 120,
      accuracy: "keyframe",
      startSeconds: 0,
      endSeconds: 600,
      maxImages: 5,
    });
    expect(extractionOptionsFromFlags({ at: "0,1.5s,500ms" })).toEqual({ mode: "timestamps", timestampsSeconds: [0, 1.5, 0.5] });
    expect(extractionOptionsFromFlags({ scenes: true, threshold: "0.2" })).toEqual({ mode: "scene", sceneThreshold: 0.2 });
    for (const bad of [
      { every: "10s", keyframes: true },
      { scenes: true, at: "1" },
      { format: "gif" },
      { quality: "high" },
      { threshold: "0.5" },
      { scenes: true, threshold: "2" },
      { accuracy: "keyframe" },
      { keyframes: true, accuracy: "exact" },
      { at: "," },
      { end: "0" },
    ]) {
      expect(() => extractionOptionsFromFlags(bad), JSON.stringify(bad)).toThrow(CliError);
    }
  });

  it("lists the field issues of a validation problem in the message", () => {
    const err = new VidsnapApiError(400, {
      type: "https://vidsnap.dev/problems/validation",
      title: "Invalid request",
      detail: "The request json is invalid.",
      requestId: "r1",
      errors: [{ path: "options.intervalSeconds", message: "Too small: expected number to be >=0.1" }],
    });
    expect(describeError(err)).toEqual({
      exitCode: 2,
      message: "Invalid request: The request json is invalid. (request id r1)\n  options.intervalSeconds: Too small: expected number to be >=0.1",
    });
  });
});

describe("transcode flags", () => {
  it("--mp4/--webm heights give one rendition each, --hls one ladder; encoder flags apply to all; trim and upscale go to the request", () => {
    const args = normalizeHlsFlag(["v", "--mp4", "720,480p", "--hls", "--webm", "480", "--quality", "low", "--no-audio", "--start", "1.5s", "--end", "1m", "--upscale"]);
    expect(args).toEqual(["v", "--mp4", "720,480p", "--hls=", "--webm", "480", "--quality", "low", "--no-audio", "--start", "1.5s", "--end", "1m", "--upscale"]);
    const req = transcodeRequestFromFlags({ mp4: ["720,480p"], hls: [""], webm: ["480"], quality: "low", "no-audio": true, start: "1.5s", end: "1m", upscale: true });
    expect(req).toEqual({
      renditions: [
        { format: "mp4", height: 720, quality: "low", audio: false },
        { format: "mp4", height: 480, quality: "low", audio: false },
        { format: "webm", height: 480, quality: "low", audio: false },
        { format: "hls", quality: "low", audio: false },
      ],
      startSeconds: 1.5,
      endSeconds: 60,
      upscale: true,
    });
    expect(normalizeHlsFlag(["v", "--hls", "720,480", "--wait"])).toEqual(["v", "--hls=720,480", "--wait"]);
    expect(normalizeHlsFlag(["v", "--hls"])).toEqual(["v", "--hls="]);
    expect(transcodeRequestFromFlags({ hls: ["720,480"], bitrate: "1500k" })).toEqual({ renditions: [{ format: "hls", heights: [720, 480], videoBitrateKbps: 1500 }] });
    expect(transcodeRequestFromSpecs(["mp4:720,480", "hls"])).toEqual({
      renditions: [{ format: "mp4", height: 720 }, { format: "mp4", height: 480 }, { format: "hls" }],
    });
    expect(transcodeRequestFromSpecs([])).toBeUndefined();
    for (const bad of [{}, { mp4: ["1000"] }, { mp4: ["720"], bitrate: "fast" }, { webm: ["480"], quality: "best" }, { mp4: ["720"], start: "-1" }]) {
      expect(() => transcodeRequestFromFlags(bad), JSON.stringify(bad)).toThrow(CliError);
    }
    for (const bad of ["mkv:480", "mp4:480:x", "hls:abc"]) expect(() => transcodeRequestFromSpecs([bad]), bad).toThrow(CliError);
  });

  it("the bar shows speed (× real time) and ETA while processing", () => {
    expect(formatEta(42.2)).toBe("0:43");
    expect(formatEta(3725)).toBe("1:02:05");
    expect(transcodeProgressSuffix({ status: "TRANSCODE_PROCESSING", speed: 2.345, etaSeconds: 61 })).toBe("processing 2.35× ETA 1:01");
    expect(transcodeProgressSuffix({ status: "TRANSCODE_PROCESSING", speed: null, etaSeconds: null })).toBe("processing");
    expect(transcodeProgressSuffix({ status: "TRANSCODE_QUEUED", speed: null, etaSeconds: null })).toBe("queued");
  });
});

describe("events (a video's timeline)", () => {
  const event = (id: number, fields: Partial<VideoEvent>): VideoEvent => ({
    id,
    jobKind: "extract",
    jobId: "",
    attempt: 1,
    fromStatus: "VIDEO_IMAGE_EXTRACTION_QUEUED",
    toStatus: "VIDEO_IMAGE_EXTRACTION_PROCESSING",
    source: "processor",
    message: null,
    createdAt: `2026-01-01T00:00:0${id}.000Z`,
    ...fields,
  });
  const page = (data: VideoEvent[], nextCursor: string | null) =>
    new Response(JSON.stringify({ data, nextCursor }), { status: 200, headers: { "content-type": "application/json" } });

  it("follows nextCursor to the last page and answers oldest first", async () => {
    const e1 = event(1, { jobKind: "video", fromStatus: null, toStatus: "VIDEO_UPLOAD_PENDING", source: "user", attempt: 0 });
    const e2 = event(2, {});
    const e3 = event(3, { jobKind: "transcode", jobId: "t1", fromStatus: "TRANSCODE_SUCCESS", toStatus: "TRANSCODE_DELETED", source: "user" });
    const scripted = scriptedFetch([page([e3, e2], "next-1"), page([e1], null)]);
    const ctx = createContext(
      { stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), env: {}, cwd: tmp },
      { apiUrl: "http://api.test", token: "t" },
      { fetch: scripted.fetch },
    );
    expect((await listVideoEvents(ctx, "v1")).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(scripted.requests.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      "/v1/videos/v1/events?limit=100",
      "/v1/videos/v1/events?limit=100&cursor=next-1",
    ]);
  });

  it("prints one aligned line per change, with the transcode id and the message", () => {
    const table = eventTable([
      event(1, { jobKind: "video", fromStatus: null, toStatus: "VIDEO_UPLOAD_PENDING", source: "user", attempt: 0 }),
      event(2, { fromStatus: "VIDEO_IMAGE_EXTRACTION_PROCESSING", toStatus: "VIDEO_IMAGE_EXTRACTION_ERROR", message: "The file is not a video." }),
      event(3, { jobKind: "transcode", jobId: "t1", fromStatus: "TRANSCODE_SUCCESS", toStatus: "TRANSCODE_DELETED", source: "user" }),
    ]).split("\n");
    expect(table[0]).toMatch(/^TIME +JOB +ATTEMPT +CHANGE +SOURCE +MESSAGE$/);
    expect(table[1]).toMatch(/^2026-01-01 00:00:01\.000 +video +0 +- → upload pending +user$/);
    expect(table[2]).toMatch(/ +extract +1 +processing → error +processor +The file is not a video\.$/);
    expect(table[3]).toMatch(/ +transcode t1 +1 +success → deleted +user$/);
  });
});

describe("generate and generators (scripted API)", () => {
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const video = { id: "v1", status: "VIDEO_GENERATION_PENDING", estimatedCompletionAt: "2026-01-01T00:15:00.000Z" };
  const generator = { id: "g1", name: "n8n", url: "https://n8n.example.com/hook", createdAt: "2026-01-01T00:00:00.000Z" };

  async function run(args: string[], answers: Response[]) {
    const scripted = scriptedFetch(answers);
    let stdout = "";
    let stderr = "";
    const code = await runCli(
      [...args, "--api-url", "http://api.test", "--token", "t"],
      { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: Readable.from([]), env: {}, cwd: tmp },
      { fetch: scripted.fetch },
    );
    return { code, stdout, stderr, requests: scripted.requests };
  }

  it("generate sends the generator, the input object and the options; prints the video", async () => {
    const r = await run(["generate", "--generator", "g1", "--input", '{"script":"Hi","n":[1,2]}', "--title", "hi.mp4", "--estimate", "60", "--every", "5s", "--json"], [json(202, { video })]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ video });
    expect(new URL(r.requests[0]!.url).pathname).toBe("/v1/generations");
    expect(await r.requests[0]!.json()).toEqual({
      generator: "g1",
      input: { script: "Hi", n: [1, 2] },
      title: "hi.mp4",
      estimatedSeconds: 60,
      extraction: { mode: "interval", intervalSeconds: 5 },
    });
  });

  it("generate refuses a missing generator, input that is not a JSON object and a bad estimate (exit 2, nothing sent)", async () => {
    for (const args of [
      ["generate", "--input", "{}"],
      ["generate", "--generator", "g1", "--input", "[1]"],
      ["generate", "--generator", "g1", "--input", "{nope"],
      ["generate", "--generator", "g1", "--input", "{}", "--estimate", "soon"],
    ]) {
      const r = await run(args, []);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.requests).toHaveLength(0);
    }
  });

  it("generators add prints the secret once; ls lists; rm of a missing one exits 4", async () => {
    const added = await run(["generators", "add", "n8n", "https://n8n.example.com/hook"], [json(201, { generator, secret: "whsec_abc" })]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("whsec_abc");
    expect(await added.requests[0]!.json()).toEqual({ name: "n8n", url: "https://n8n.example.com/hook" });
    const listed = await run(["generators", "ls"], [json(200, { data: [generator] })]);
    expect(listed.stdout.trim()).toBe("g1  n8n  https://n8n.example.com/hook");
    const missing = await run(["generators", "rm", "nope"], [
      new Response(JSON.stringify({ type: "https://vidsnap.dev/problems/not-found", title: "Not found", status: 404, detail: "No generator nope." }), {
        status: 404,
        headers: { "content-type": "application/problem+json" },
      }),
    ]);
    expect(missing.code).toBe(4);
    expect((await run(["generators", "frobnicate"], [])).code).toBe(2);
  });
});
