/**
 * The processor's HTTP server (node:http), exactly the "Processor HTTP API" of docs/architecture.md:
 * - `GET /healthz` → `200 {"ok":true,"runningJobs":n}` (503 `ok:false` while shutting down);
 * - `POST /jobs` with a MSG_EXTRACT_SNAPSHOT envelope → 200 NDJSON of ExtractSnapshotEvent envelopes
 *   (PROCESSING first, PROGRESS at most every `progressIntervalMs` when there is news, a heartbeat
 *   PROCESSING whenever the stream has been silent for `heartbeatSeconds`, then one SUCCESS or ERROR),
 *   or a problem+json 400/409/413/503.
 * A bad video is an ERROR line, never a 5xx. When the client disconnects mid-job the job is aborted
 * (ffmpeg killed, multipart upload aborted, temp folder removed): the queue redelivers the message.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  ExtractSnapshotEvent,
  ExtractSnapshotMessage,
  type ExtractSnapshotErrorMessage,
  type ExtractSnapshotProcessingMessage,
  type ExtractSnapshotProgressMessage,
  type ExtractSnapshotSuccessMessage,
} from "../../schema/messages/extract-snapshot.ts";
import { DEFAULT_HEARTBEAT_SECONDS, type ProcessorConfig } from "./config.ts";
import { ClientGoneError, JobError } from "./errors.ts";
import { runExtractionJob, type JobPayload, type JobProgress } from "./extract.ts";
import { redact } from "./ffmpeg-log.ts";
import { resolveFfmpegBinaries, type FfmpegBinaries } from "./ffmpeg-path.ts";
import { createLogger, type Logger } from "./log.ts";
import { createS3Client } from "./s3.ts";

/** Base of the stable problem `type` URIs (RFC 9457). */
export const PROBLEM_BASE = "https://vidsnap.dev/problems/";
/** Largest accepted request body, bytes (a job envelope is a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;
/** `Retry-After` of a 503 when all job slots are taken, seconds. */
export const BUSY_RETRY_AFTER_SECONDS = 30;

/** A started processor server. */
export interface ProcessorServer {
  server: http.Server;
  /** Starts listening on `config.host:config.port`. @returns the base URL, e.g. `http://127.0.0.1:8788` */
  listen(): Promise<string>;
  /** Jobs currently running. */
  runningJobs(): number;
  /** Aborts every running job; each reports ERROR `reason`. */
  abortRunningJobs(reason: JobError): void;
  /**
   * Stops accepting requests, waits for running jobs (aborting them first when `abortRunning`), then
   * closes every connection. Safe to call twice.
   */
  close(opts?: { abortRunning?: boolean }): Promise<void>;
}

interface RunningJob {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Builds the server (not listening yet).
 * @param config validated configuration (`loadConfig`, or built by tests with `port: 0`)
 * @param deps.log structured logger (default JSON lines on stdout); deps.s3 a client to reuse
 */
export function createProcessorServer(
  config: ProcessorConfig,
  deps: { log?: Logger; s3?: S3Client } = {},
): ProcessorServer {
  const log = deps.log ?? createLogger();
  const s3 = deps.s3 ?? createS3Client(config.s3);
  const running = new Map<string, RunningJob>();
  let draining = false;
  let bins: Promise<FfmpegBinaries> | undefined;
  const getBins = () =>
    (bins ??= resolveFfmpegBinaries({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath }).then((b) => {
      log("info", "ffmpeg binaries", { ffmpeg: b.ffmpeg, ffprobe: b.ffprobe });
      return b;
    }));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log("error", "request failed", { error: String((e as Error)?.stack ?? e) });
      if (!res.headersSent) problem(res, 500, "internal", "Internal error", "The processor failed to handle the request.");
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? "/", "http://processor").pathname;
    if (pathname === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET, HEAD");
      return json(res, draining ? 503 : 200, { ok: !draining, runningJobs: running.size });
    }
    if (pathname === "/jobs") {
      if (req.method !== "POST") return methodNotAllowed(res, "POST");
      return postJob(req, res);
    }
    problem(res, 404, "not-found", "Not found", `No route for ${req.method} ${pathname}.`);
  }

  async function postJob(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (draining) {
      res.setHeader("retry-after", String(BUSY_RETRY_AFTER_SECONDS));
      return problem(res, 503, "shutting-down", "Shutting down", "The processor is shutting down and accepts no new job.");
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      return problem(res, 413, "payload-too-large", "Payload too large", `The body exceeds ${MAX_BODY_BYTES} bytes.`);
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString("utf8"));
    } catch {
      return problem(res, 400, "invalid-job", "Invalid job", "The body is not valid JSON.");
    }
    const parsed = ExtractSnapshotMessage.safeParse(value);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .slice(0, 10)
        .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
        .join("; ");
      return problem(res, 400, "invalid-job", "Invalid job", `The body is not a MSG_EXTRACT_SNAPSHOT envelope: ${detail}`);
    }
    const payload = parsed.data.payload;
    const jobId = `${payload.videoId}#${payload.attempt}`;
    if (running.has(jobId)) {
      return problem(
        res,
        409,
        "job-already-running",
        "Job already running",
        `Video ${payload.videoId} attempt ${payload.attempt} is already being processed here; that job will report.`,
      );
    }
    if (running.size >= config.maxConcurrentJobs) {
      res.setHeader("retry-after", String(BUSY_RETRY_AFTER_SECONDS));
      return problem(
        res,
        503,
        "processor-busy",
        "Processor busy",
        `${running.size} of ${config.maxConcurrentJobs} job slots are in use.`,
      );
    }
    const controller = new AbortController();
    const job: RunningJob = { controller, done: Promise.resolve() };
    running.set(jobId, job);
    job.done = streamJob(jobId, payload, controller, res).finally(() => running.delete(jobId));
    await job.done;
  }

  /** Runs the job and writes its NDJSON events; never throws. */
  async function streamJob(
    jobId: string,
    payload: JobPayload,
    controller: AbortController,
    res: http.ServerResponse,
  ): Promise<void> {
    const ref = { videoId: payload.videoId, userId: payload.userId, attempt: payload.attempt };
    const started = Date.now();
    log("info", "job started", { jobId, userId: payload.userId, options: payload.options });
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    let finished = false;
    /** Set once the job settled (or the client left): no PROCESSING line may follow. */
    let stopped = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const stopTimers = () => {
      stopped = true;
      clearTimeout(heartbeat);
      heartbeat = undefined;
    };
    res.on("close", () => {
      stopTimers();
      if (!finished) controller.abort(new ClientGoneError());
    });
    const heartbeatMs = (config.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
    /** (Re)starts the silence timer: it fires `heartbeatMs` after the last line written. */
    const armHeartbeat = () => {
      clearTimeout(heartbeat);
      heartbeat = stopped ? undefined : setTimeout(sendHeartbeat, heartbeatMs);
    };
    /** Writes one event line after validating it; a (buggy) invalid event is logged, never thrown from a timer. */
    const write = (event: ExtractSnapshotEvent): boolean => {
      const checked = ExtractSnapshotEvent.safeParse(event);
      if (!checked.success) {
        log("error", "invalid event not sent", { jobId, type: event.type, issues: checked.error.issues.map((i) => i.message) });
        return false;
      }
      if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(checked.data) + "\n");
      // Any non-final line restarts the silence timer.
      if (event.type === "MSG_EXTRACT_SNAPSHOT_PROCESSING" || event.type === "MSG_EXTRACT_SNAPSHOT_PROGRESS") armHeartbeat();
      return true;
    };
    const processing = (): ExtractSnapshotProcessingMessage => ({
      type: "MSG_EXTRACT_SNAPSHOT_PROCESSING",
      sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
      target: "VIDEO_API_SERVICE",
      payload: ref,
    });
    const progressEvent = (progress: JobProgress): ExtractSnapshotProgressMessage => ({
      type: "MSG_EXTRACT_SNAPSHOT_PROGRESS",
      sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
      target: "VIDEO_API_SERVICE",
      payload: { ...ref, fraction: progress.fraction, imagesSoFar: progress.images },
    });
    /** Newest progress reported by the job (never lower than the one before). */
    let latest: JobProgress | undefined;
    /** Progress of the last PROGRESS line written. */
    let sent: JobProgress | undefined;
    const sendProgress = (progress: JobProgress) => {
      if (stopped) return;
      sent = progress;
      write(progressEvent(progress));
    };
    /**
     * Heartbeat: the stream was silent for `heartbeatMs` (ffprobe, decoding between distant targets,
     * seeks, the final upload). A bare PROCESSING, so the edge API renews the lease and its idle timer
     * without a new image.
     */
    function sendHeartbeat(): void {
      heartbeat = undefined;
      if (!stopped) write(processing());
    }
    write(processing());

    // PROGRESS at most every progressIntervalMs (2 s by contract), only when there is news. The explicit
    // check keeps the minimum gap even if a delayed tick is followed by a punctual one.
    let lastProgressAt = Number.NEGATIVE_INFINITY;
    const ticker = setInterval(() => {
      if (!latest || latest === sent || Date.now() - lastProgressAt < config.progressIntervalMs) return;
      lastProgressAt = Date.now();
      sendProgress(latest);
    }, Math.max(10, Math.floor(config.progressIntervalMs / 4)));
    const timeout = setTimeout(() => {
      controller.abort(
        new JobError(
          `Processing took longer than the limit of ${config.jobTimeoutSeconds} seconds and was stopped.`,
          "The job timeout (JOB_TIMEOUT_SECONDS) was reached; ffmpeg was killed and the partial archive discarded.",
        ),
      );
    }, config.jobTimeoutSeconds * 1000);

    let final: ExtractSnapshotSuccessMessage | ExtractSnapshotErrorMessage | undefined;
    try {
      const bins = await getBins();
      const result = await runExtractionJob(payload, {
        config,
        s3,
        bins,
        log,
        signal: controller.signal,
        onProgress: (p) => {
          // Progress never goes down, even if a later image reports an earlier position.
          latest = {
            fraction: Math.max(p.fraction, latest?.fraction ?? 0),
            images: Math.max(p.images, latest?.images ?? 0),
          };
        },
      });
      final = {
        type: "MSG_EXTRACT_SNAPSHOT_SUCCESS",
        sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
        target: "VIDEO_API_SERVICE",
        payload: {
          ...ref,
          archiveUri: result.archiveUri,
          manifestUri: result.manifestUri,
          imageCount: result.imageCount,
          zipSizeBytes: result.zipSizeBytes,
          source: result.source,
        },
      };
      log("info", "job succeeded", {
        jobId,
        imageCount: result.imageCount,
        zipSizeBytes: result.zipSizeBytes,
        extractMs: result.extractMs,
        ...(result.intervalStrategy ? { intervalStrategy: result.intervalStrategy } : {}),
        totalMs: Date.now() - started,
      });
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      if (reason instanceof ClientGoneError) {
        log("warn", "job aborted: client disconnected", { jobId, totalMs: Date.now() - started });
      } else {
        let errorMessage: string;
        let errorDescription: string;
        if (reason instanceof JobError) {
          errorMessage = reason.message;
          errorDescription = reason.description;
        } else {
          log("error", "job crashed", { jobId, error: redact(String((reason as Error)?.stack ?? reason), [config.s3.secretAccessKey]) });
          errorMessage = "The video processor failed unexpectedly.";
          errorDescription = redact(String((reason as Error)?.message ?? reason), [config.s3.secretAccessKey]);
        }
        final = {
          type: "MSG_EXTRACT_SNAPSHOT_ERROR",
          sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
          target: "VIDEO_API_SERVICE",
          payload: { ...ref, errorMessage: errorMessage.slice(0, 500), errorDescription: errorDescription.slice(0, 4000) },
        };
        log("warn", "job failed", { jobId, errorMessage, errorDescription, totalMs: Date.now() - started });
      }
    } finally {
      clearInterval(ticker);
      clearTimeout(timeout);
      stopTimers();
    }
    // The slot is free before the last line is sent: a client that read it sees runningJobs without it.
    running.delete(jobId);
    finished = true;
    if (final && !write(final)) {
      write({
        type: "MSG_EXTRACT_SNAPSHOT_ERROR",
        sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
        target: "VIDEO_API_SERVICE",
        payload: { ...ref, errorMessage: "The video processor failed unexpectedly.", errorDescription: "invalid result event" },
      });
    }
    res.end();
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
          log("info", "listening", { url, maxConcurrentJobs: config.maxConcurrentJobs });
          resolve(url);
        });
      }),
    runningJobs: () => running.size,
    abortRunningJobs(reason) {
      for (const job of running.values()) job.controller.abort(reason);
    },
    async close(opts = {}) {
      draining = true;
      const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      server.closeIdleConnections();
      if (opts.abortRunning) {
        this.abortRunningJobs(
          new JobError(
            "The video processor shut down before the job finished.",
            "The processor received a shutdown signal; the job can be retried.",
          ),
        );
      }
      await Promise.allSettled([...running.values()].map((j) => j.done));
      server.closeAllConnections();
      await closed;
      if (!deps.s3) s3.destroy();
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
 * @param slug last segment of the stable type URI, e.g. `invalid-job`
 */
function problem(res: http.ServerResponse, status: number, slug: string, title: string, detail: string): void {
  res.writeHead(status, { "content-type": "application/problem+json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify({ type: PROBLEM_BASE + slug, title, status, detail }));
}

function methodNotAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader("allow", allow);
  problem(res, 405, "method-not-allowed", "Method not allowed", `Use ${allow}.`);
}
