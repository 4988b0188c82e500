/**
 * The processor's HTTP API (docs/architecture.md "Processor HTTP API"): `GET /healthz` →
 * `{"ok":true,"runningJobs":n,"waitingJobs":n}` (503 `ok:false` while shutting down); `POST /jobs` with a job envelope
 * signed with PROCESSOR_SHARED_SECRET (runtime/job-signature.ts) → 200 NDJSON of the job's events
 * (./job-stream.ts), or a problem+json 400/401/409/413/503. A bad video is an ERROR line, never a 5xx.
 * `DELETE /jobs/{key}` (signed the same way, over an empty body) cancels the running job of that key
 * (`JobKind.jobKey`, e.g. `{videoId}#{attempt}`, URL-encoded): its ffmpeg is killed, its stream ends with
 * ERROR "The job was cancelled.", its work folder is removed and nothing of it stays stored; 204 once it
 * settled (202 when it has not within {@link CANCEL_WAIT_MS}), 404 when no job of that key runs here.
 *
 * Job slots: at most `maxConcurrentJobs` jobs run at once. A job arriving when every slot is taken is answered
 * 503 at once, unless its request carries {@link SLOT_WAIT_HEADER} (seconds, at most
 * {@link MAX_SLOT_WAIT_SECONDS}): it then waits, first come first served, for the next free slot (at most
 * {@link SLOT_WAITERS_PER_SLOT} waiters per slot; 503 when the wait ends without one). A slot is taken before
 * any check that awaits, so the count never exceeds the slots.
 * `POST /renders` (signed the same way) renders one image of images on demand synchronously and answers its
 * bytes, in a slot pool of its own (`MAX_CONCURRENT_RENDERS`, 503 beyond): see {@link postRender}.
 */
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createLogger, errorFields, type Logger } from "../../../runtime/log.ts";
import { SIGNATURE_HEADER, SLOT_WAIT_HEADER, TIMESTAMP_HEADER, verifyJobRequest, type SignatureRefusal } from "../../../runtime/job-signature.ts";
import { problemType } from "../../../schema/problem.ts";
import { RenderRequest } from "../../../schema/image-options.ts";
import { DEFAULT_MAX_CONCURRENT_RENDERS, DEFAULT_RENDER_TIMEOUT_SECONDS, DEFAULT_SOURCE_CACHE_BYTES, DEFAULT_SOURCE_CACHE_MAX_FILE_BYTES, type ProcessorConfig } from "../config.ts";
import { ProbeCache } from "../renders/probe-cache.ts";
import { SourceCache } from "../sources/source-cache.ts";
import { RenderParamError, runRender } from "../renders/render.ts";
import { measureStartMs, resolveFfmpegBinaries, type FfmpegBinaries } from "../ffmpeg/binaries.ts";
import { JOB_KINDS } from "../jobs/index.ts";
import { createStorage, type S3ClientFactory, type Storage } from "../s3.ts";
import { credentialSecrets, JobCredentials } from "../../../schema/storage-credentials.ts";
import { JobError } from "./errors.ts";
import type { AnyJobKind, JobRef } from "./job-kind.ts";
import { streamJob } from "./job-stream.ts";

/** Largest accepted request body, bytes (a job envelope is a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;
/** `Retry-After` of a 503 when all job slots are taken, seconds. */
export const BUSY_RETRY_AFTER_SECONDS = 30;
/** Longest accepted slot wait, seconds. */
export const MAX_SLOT_WAIT_SECONDS = 120;
/** Waiting requests per job slot beyond which a job is answered 503 at once (a bounded backlog, never a pile-up). */
export const SLOT_WAITERS_PER_SLOT = 4;
/** `Retry-After` of a 503 when every render slot is taken, seconds: renders last about a second. */
export const RENDERS_BUSY_RETRY_AFTER_SECONDS = 1;
/** Prefix of a render's own work folder under TMPDIR. */
export const RENDER_FOLDER_PREFIX = "render-";
/** How long `DELETE /jobs/{key}` waits for the cancelled job to settle before answering 202, ms. */
export const CANCEL_WAIT_MS = 30_000;

const SIGNATURE_REFUSALS: Record<SignatureRefusal, string> = {
  missing: `The job request is not signed (${TIMESTAMP_HEADER}, ${SIGNATURE_HEADER}).`,
  malformed: "The job request's signature headers are malformed.",
  stale: "The job request's timestamp is too far from the processor's clock.",
  mismatch: "The job request's signature does not match.",
};

/** A started processor server. */
export interface ProcessorServer {
  server: http.Server;
  /** Starts listening on `config.host:config.port`. @returns the base URL, e.g. `http://127.0.0.1:8788` */
  listen(): Promise<string>;
  /** Jobs currently running. */
  runningJobs(): number;
  /** Renders (`POST /renders`) currently running. */
  runningRenders(): number;
  /** Aborts every running job; each reports ERROR `reason`. */
  abortRunningJobs(reason: JobError): void;
  /**
   * Stops accepting requests, waits for running jobs (aborting them first when `abortRunning`), then
   * closes every connection. Safe to call twice.
   */
  close(opts?: { abortRunning?: boolean }): Promise<void>;
}

/**
 * The processor's logger: every line on stdout (one stream for `docker logs`, the local stack and the
 * chaos harness), whatever its level.
 */
export function createProcessorLogger(): Logger {
  return createLogger({}, { sink: (_level, line) => process.stdout.write(`${line}\n`) });
}

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Builds the server (not listening yet).
 * @param config validated configuration (`loadProcessorConfig`, or built by tests with `port: 0`)
 * @param deps.log logger (default {@link createProcessorLogger}); deps.s3Client how the S3 client of a job's
 *   credential is built (tests: a slowed-down client); deps.kinds the job kinds (default {@link JOB_KINDS})
 */
export function createProcessorServer(
  config: ProcessorConfig,
  deps: { log?: Logger; s3Client?: S3ClientFactory; kinds?: readonly AnyJobKind[] } = {},
): ProcessorServer {
  const log = deps.log ?? createProcessorLogger();
  const kinds = deps.kinds ?? JOB_KINDS;
  const running = new Map<string, RunningJob>();
  /** Requests waiting for a slot, oldest first; each resolves its wait when called. */
  const waiters: (() => void)[] = [];
  /** Running renders: their abort controllers and completion. */
  const renders = new Set<RunningJob>();
  const maxRenders = config.maxConcurrentRenders ?? DEFAULT_MAX_CONCURRENT_RENDERS;
  const probes = new ProbeCache();
  const sources = new SourceCache({
    parentDir: config.tmpDir,
    maxBytes: config.sourceCacheBytes ?? DEFAULT_SOURCE_CACHE_BYTES,
    maxFileBytes: config.sourceCacheMaxFileBytes ?? DEFAULT_SOURCE_CACHE_MAX_FILE_BYTES,
  });
  let draining = false;
  let bins: Promise<FfmpegBinaries> | undefined;
  const getBins = () =>
    (bins ??= resolveFfmpegBinaries({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath }).then(async (resolved) => {
      // Its start time prices each seek of the interval strategy (a seek is a new process).
      const b = { ...resolved, startMs: await measureStartMs(resolved.ffmpeg) };
      // Which build runs the jobs (FFMPEG_PATH, the lean build, ffmpeg-static or PATH: ../ffmpeg/binaries.ts).
      log.info("ffmpeg binaries", { ffmpeg: b.ffmpeg, ffprobe: b.ffprobe, ffmpegSource: b.source.ffmpeg, ffprobeSource: b.source.ffprobe, ffmpegStartMs: b.startMs });
      return b;
    }));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error("request failed", errorFields(e));
      if (!res.headersSent) problem(res, 500, "internal", "Internal error", "The processor failed to handle the request.");
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? "/", "http://processor").pathname;
    if (pathname === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET, HEAD");
      return json(res, draining ? 503 : 200, { ok: !draining, runningJobs: running.size, waitingJobs: waiters.length });
    }
    if (pathname === "/jobs") {
      if (req.method !== "POST") return methodNotAllowed(res, "POST");
      return postJob(req, res);
    }
    if (pathname === "/renders") {
      if (req.method !== "POST") return methodNotAllowed(res, "POST");
      return postRender(req, res);
    }
    if (pathname.startsWith("/jobs/") && pathname.length > "/jobs/".length) {
      if (req.method !== "DELETE") return methodNotAllowed(res, "DELETE");
      return deleteJob(req, res, pathname.slice("/jobs/".length));
    }
    problem(res, 404, "not-found", "Not found", `No route for ${req.method} ${pathname}.`);
  }

  /**
   * The checks every signed POST shares: not shutting down (503), a body within {@link MAX_BODY_BYTES} (413),
   * a valid signature (401), JSON (400 `invalid-<what>`). Answers the request itself when one fails.
   * @param what `job` or `render`, for the problem's type and sentences
   * @returns the parsed body, or undefined when the request was answered
   */
  async function readSignedJson(req: http.IncomingMessage, res: http.ServerResponse, what: "job" | "render"): Promise<{ value: unknown } | undefined> {
    const title = what === "job" ? "Invalid job" : "Invalid render";
    if (draining) {
      res.setHeader("retry-after", String(BUSY_RETRY_AFTER_SECONDS));
      problem(res, 503, "shutting-down", "Shutting down", `The processor is shutting down and accepts no new ${what}.`);
      return undefined;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      problem(res, 413, "payload-too-large", "Payload too large", `The body exceeds ${MAX_BODY_BYTES} bytes.`);
      return undefined;
    }
    if (!(await signatureOk(req, res, body))) return undefined;
    try {
      return { value: JSON.parse(body.toString("utf8")) as unknown };
    } catch {
      problem(res, 400, `invalid-${what}`, title, "The body is not valid JSON.");
      return undefined;
    }
  }

  async function postJob(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const read = await readSignedJson(req, res, "job");
    if (!read) return;
    // The body is the job envelope plus its storage credentials (`credentials`, schema/storage-credentials.ts).
    const { credentials: rawCredentials, ...value } = (read.value ?? {}) as Record<string, unknown>;
    const type = value.type;
    // With one kind, its own parse explains a wrong type.
    const kind = kinds.find((k) => k.type === type) ?? (kinds.length === 1 ? kinds[0] : undefined);
    if (!kind) {
      const known = kinds.map((k) => k.type).join(", ");
      return problem(res, 400, "invalid-job", "Invalid job", `The body is not a job envelope of a known type (${known}).`);
    }
    const parsed = kind.parse(value);
    if (!("job" in parsed)) return problem(res, 400, "invalid-job", "Invalid job", parsed.detail);
    const credentials = JobCredentials.safeParse(rawCredentials);
    if (!credentials.success) {
      // Never echoes the values: they are secrets.
      const where = [...new Set(credentials.error.issues.map((i) => ["credentials", ...i.path].join(".")))].join(", ");
      return problem(res, 400, "invalid-job", "Invalid job", `The job's storage credentials are missing or malformed (${where}).`);
    }
    const job = parsed.job as JobRef;
    const jobId = kind.jobKey?.(job) ?? `${job.videoId}#${job.attempt}`;
    const alreadyRunning = () =>
      problem(
        res,
        409,
        "job-already-running",
        "Job already running",
        `Job ${jobId} (video ${job.videoId} attempt ${job.attempt}) is already being processed here; that job will report.`,
      );
    if (running.has(jobId)) return alreadyRunning();
    if (running.size >= config.maxConcurrentJobs && !(await waitForSlot(req, res))) {
      if (res.destroyed) return;
      if (running.has(jobId)) return alreadyRunning();
      res.setHeader("retry-after", String(BUSY_RETRY_AFTER_SECONDS));
      return problem(
        res,
        503,
        "processor-busy",
        "Processor busy",
        `${running.size} of ${config.maxConcurrentJobs} job slots are in use.`,
      );
    }
    // A copy of this job may have started while this request waited for its slot.
    if (running.has(jobId)) return alreadyRunning();
    // The slot is taken now: the check below awaits, and another request must not take the same slot meanwhile.
    const controller = new AbortController();
    const entry: RunningJob = { controller, done: Promise.resolve() };
    running.set(jobId, entry);
    // This job's storage: its own credentials, nothing else (closed when the job ends).
    const storage = createStorage(config.s3, credentials.data, deps.s3Client);
    const free = () => {
      if (running.get(jobId) !== entry) return;
      running.delete(jobId);
      storage.destroy();
      waiters.shift()?.();
    };
    // The check that no output of this job is stored runs beside the job's start (its source download and
    // probe need no answer from it); the job writes nothing before it passed, and the answer's status waits
    // for it: 409 when the output is stored, the job then aborted unseen.
    const outputsStored = kind.alreadyStored
      ? kind.alreadyStored(job, { config, storage, signal: AbortSignal.timeout(30_000) }).catch(() => null)
      : undefined;
    const answers = {
      // The processor's own count is the authoritative one (a proxy's view races between connections).
      accepted: () => log.info("job accepted", { jobId, runningJobs: running.size, jobSlots: config.maxConcurrentJobs }),
      alreadyFinished: () =>
        problem(
          res,
          409,
          "job-already-finished",
          "Job already finished",
          `The output of video ${job.videoId} attempt ${job.attempt} is already stored; it is never replaced.`,
        ),
    };
    entry.done = streamJob(kind, job, jobId, controller, res, { config, storage, secrets: credentialSecrets(credentials.data), log, bins: getBins, sources, outputsStored }, free, answers).finally(free);
    await entry.done;
  }

  /**
   * Waits for a free job slot as long as the request's {@link SLOT_WAIT_HEADER} allows (see the module
   * docstring); gives up when the client goes away or the processor starts shutting down.
   * @returns true when a slot is free now (the caller takes it before awaiting anything)
   */
  async function waitForSlot(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    const asked = Number([req.headers[SLOT_WAIT_HEADER]].flat()[0] ?? 0);
    const seconds = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), MAX_SLOT_WAIT_SECONDS) : 0;
    const deadline = Date.now() + seconds * 1000;
    while (running.size >= config.maxConcurrentJobs) {
      const remaining = deadline - Date.now();
      if (draining || res.destroyed || remaining <= 0 || waiters.length >= SLOT_WAITERS_PER_SLOT * config.maxConcurrentJobs) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          res.off("close", done);
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        res.once("close", done);
        waiters.push(done);
      });
    }
    return !draining && !res.destroyed;
  }

  /**
   * `POST /renders` (docs/architecture.md "Images on demand"): renders one image synchronously and answers
   * its bytes. Signed like a job; its own pool of `MAX_CONCURRENT_RENDERS` slots, apart from the job slots:
   * beyond it 503 with Retry-After at once. Limited to `RENDER_TIMEOUT_SECONDS` (504); the client going
   * away kills ffmpeg. A bad or damaged video is 422, a time past its end 400 naming the parameter, the
   * storage failing 503.
   */
  async function postRender(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const read = await readSignedJson(req, res, "render");
    if (!read) return;
    const parsed = RenderRequest.safeParse(read.value);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
      return problem(res, 400, "invalid-render", "Invalid render", detail.slice(0, 1000));
    }
    if (renders.size >= maxRenders) {
      res.setHeader("retry-after", String(RENDERS_BUSY_RETRY_AFTER_SECONDS));
      return problem(res, 503, "processor-busy", "Processor busy", `${renders.size} of ${maxRenders} render slots are in use.`);
    }
    const controller = new AbortController();
    const entry: RunningJob = { controller, done: Promise.resolve() };
    renders.add(entry);
    const storage = createStorage(config.s3, parsed.data.credentials, deps.s3Client);
    entry.done = render(parsed.data, storage, controller, res, requestIdOf(req)).finally(() => {
      renders.delete(entry);
      storage.destroy();
    });
    await entry.done;
  }

  async function render(
    request: RenderRequest,
    storage: Storage,
    controller: AbortController,
    res: http.ServerResponse,
    requestId: string | undefined,
  ): Promise<void> {
    const timeoutSeconds = config.renderTimeoutSeconds ?? DEFAULT_RENDER_TIMEOUT_SECONDS;
    const timer = setTimeout(
      () => controller.abort(new JobError("The render took too long.", `RENDER_TIMEOUT_SECONDS=${timeoutSeconds}: ffmpeg was stopped.`)),
      timeoutSeconds * 1000,
    );
    // The Worker gave up (its own timeout, or the viewer left): stop ffmpeg at once.
    const onClose = () => {
      if (!res.writableFinished) controller.abort(new JobError("The client went away.", "the render request's connection closed"));
    };
    res.once("close", onClose);
    const rlog = log.child({ render: request.spec.kind, videoId: request.videoId, ...(requestId ? { requestId } : {}) });
    const started = Date.now();
    try {
      // ffmpeg's own folder, removed before the answer goes out (nothing of a render outlives its request).
      const workDir = await mkdtemp(path.join(config.tmpDir, RENDER_FOLDER_PREFIX));
      const result = await runRender(request, { config, storage, bins: await getBins(), log: rlog, workDir, signal: controller.signal, probes, sources }).finally(() =>
        rm(workDir, { recursive: true, force: true }),
      );
      const ms = Date.now() - started;
      rlog.info("render done", { ms, bytes: result.bytes.length, format: request.spec.format, ...result.phases });
      res.writeHead(200, {
        "content-type": result.contentType,
        "content-length": String(result.bytes.length),
        "cache-control": "no-store",
        "x-render-ms": String(ms),
      });
      res.end(result.bytes);
    } catch (e) {
      if (res.destroyed) return;
      if (e instanceof RenderParamError) {
        res.writeHead(400, { "content-type": "application/problem+json; charset=utf-8", "cache-control": "no-store" });
        res.end(JSON.stringify({ type: problemType("invalid-render"), title: "Invalid render", status: 400, detail: e.message, param: e.param }));
        return;
      }
      const timedOut = controller.signal.aborted;
      const err = timedOut ? (controller.signal.reason as JobError) : e;
      if (!(err instanceof JobError)) throw err;
      rlog.warn("render failed", { error: err.message, description: err.description, retryable: err.retryable, ms: Date.now() - started });
      if (timedOut) return problem(res, 504, "render-timeout", "Render timed out", err.message);
      if (err.retryable) {
        res.setHeader("retry-after", String(BUSY_RETRY_AFTER_SECONDS));
        return problem(res, 503, "storage-unavailable", "Storage unavailable", err.message);
      }
      problemWith(res, 422, "video-unrenderable", "Video cannot be rendered", err.message, { description: err.description });
    } finally {
      clearTimeout(timer);
      res.off("close", onClose);
    }
  }

  /**
   * Only the Worker holding the shared secret may start or cancel jobs: anyone else could make the
   * processor read and write any user's objects, or stop them. Answers 401 itself when refused.
   * @returns true when the request's signature over `body` is valid
   */
  async function signatureOk(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<boolean> {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const verdict = await verifyJobRequest(config.sharedSecret, body, {
      timestamp: header(TIMESTAMP_HEADER),
      signature: header(SIGNATURE_HEADER),
    });
    if (verdict.ok) return true;
    log.warn("job request refused: bad signature", { reason: verdict.reason, method: req.method });
    problem(res, 401, "unauthorized", "Unauthorized", SIGNATURE_REFUSALS[verdict.reason]);
    return false;
  }

  /** `DELETE /jobs/{key}`: cancels the running job of that key (see the module docstring). */
  async function deleteJob(req: http.IncomingMessage, res: http.ServerResponse, encodedKey: string): Promise<void> {
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      return problem(res, 413, "payload-too-large", "Payload too large", `The body exceeds ${MAX_BODY_BYTES} bytes.`);
    }
    if (!(await signatureOk(req, res, body))) return;
    let key: string;
    try {
      key = decodeURIComponent(encodedKey);
    } catch {
      return problem(res, 400, "invalid-job", "Invalid job", "The job key is not valid percent-encoding.");
    }
    const entry = running.get(key);
    if (!entry) return problem(res, 404, "job-not-running", "Job not running", `No job ${key} is running on this processor.`);
    log.info("job cancel requested", { jobId: key });
    entry.controller.abort(
      new JobError("The job was cancelled.", `DELETE /jobs/${encodedKey}: the job was cancelled (video or transcode deleted); ffmpeg was killed and nothing of it is stored.`),
    );
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      entry.done.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CANCEL_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (settled) {
      res.writeHead(204, { "cache-control": "no-store" });
      res.end();
    } else {
      json(res, 202, { cancelling: key });
    }
  }

  return {
    server,
    listen: () =>
      new Promise<string>((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          const url = `http://${host}:${port}`;
          log.info("listening", { url, maxConcurrentJobs: config.maxConcurrentJobs });
          resolve(url);
        });
      }),
    runningJobs: () => running.size,
    runningRenders: () => renders.size,
    abortRunningJobs(reason) {
      for (const job of running.values()) job.controller.abort(reason);
      for (const r of renders) r.controller.abort(reason);
    },
    async close(opts = {}) {
      draining = true;
      for (const wake of [...waiters]) wake(); // waiting jobs are answered 503 now

      const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      server.closeIdleConnections();
      if (opts.abortRunning) {
        this.abortRunningJobs(
          new JobError(
            "The video processor shut down before the job finished.",
            "The processor received a shutdown signal; the job is retried.",
            { retryable: true },
          ),
        );
      }
      await Promise.allSettled([...running.values(), ...renders].map((j) => j.done));
      server.closeAllConnections();
      await closed;
      await sources.close();
    },
  };
}

/**
 * Reads the whole body without destroying the request (so an answer can still be sent).
 * @returns undefined when it exceeds `max` bytes (the rest is read and discarded)
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.once("end", () => resolve(size > max ? undefined : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

/**
 * RFC 9457 problem details: `{type, title, status, detail}` as application/problem+json.
 * @param slug the problem kind, e.g. `invalid-job`
 */
function problem(res: http.ServerResponse, status: number, slug: string, title: string, detail: string): void {
  res.writeHead(status, { "content-type": "application/problem+json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify({ type: problemType(slug), title, status, detail }));
}

/**
 * The caller's request id (`x-request-id`, set by the Worker) for the render's log lines, when it is a
 * plain token of at most 128 visible ASCII characters (anything else is not logged).
 */
export function requestIdOf(req: http.IncomingMessage): string | undefined {
  const id = req.headers["x-request-id"];
  return typeof id === "string" && /^[\x21-\x7e]{1,128}$/.test(id) ? id : undefined;
}

/** {@link problem} with extension members (e.g. the redacted `description` of a failed render). */
function problemWith(res: http.ServerResponse, status: number, slug: string, title: string, detail: string, extra: Record<string, unknown>): void {
  res.writeHead(status, { "content-type": "application/problem+json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify({ type: problemType(slug), title, status, detail, ...extra }));
}

function methodNotAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader("allow", allow);
  problem(res, 405, "method-not-allowed", "Method not allowed", `Use ${allow}.`);
}
