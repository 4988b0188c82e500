/**
 * One transcode: HEAD and probe the source (the hostile-input rules of extraction, unchanged), plan the
 * outputs and check the disk, run one ffmpeg (one decode, `split`, one encoder per output) into the work
 * folder while reporting `-progress`, measure the outputs with ffprobe, write the HLS master playlist,
 * upload every file with multipart uploads under the attempt prefix, and write the completion marker
 * last. On failure (or cancel) everything this attempt uploaded is deleted.
 */
import { createReadStream } from "node:fs";
import { mkdir, stat, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SourceFacts } from "../../../../schema/manifest.ts";
import type { TranscodeMessage, TranscodeOutput } from "../../../../schema/messages/transcode.ts";
import { s3Uri, sourceObjectKey, transcodeAttemptPrefix } from "../../../../schema/object-keys.ts";
import { RENDITION_CONTENT_TYPES, type TranscodeRequest } from "../../../../schema/transcode-options.ts";
import { DEFAULT_TRANSCODE_MAX_WORK_BYTES, DEFAULT_TRANSCODE_TIMEOUT_SECONDS, type ProcessorConfig } from "../../config.ts";
import { checkProbeLimits } from "../../ffmpeg/input-checks.ts";
import { probeSource } from "../../ffmpeg/probe.ts";
import { runProcess } from "../../ffmpeg/proc.ts";
import { stderrTail, unreadableVideoMessage } from "../../ffmpeg/stderr.ts";
import { JobError } from "../../runner/errors.ts";
import { classifySourceFailure } from "../classify-failure.ts";
import type { JobContext } from "../../runner/job-kind.ts";
import { headSource, isNotFound, storageError, type Storage, type StreamUpload } from "../../s3.ts";
import { buildTranscodeArgs } from "./ffmpeg-args.ts";
import { AAC_LC_CODEC, avc1Codec, buildMasterPlaylist, hlsContentType } from "./hls.ts";
import { measureVariant, probeOutput, type MeasuredMedia, type MeasuredVariant } from "./measure.ts";
import { checkDiskEstimate, planTranscode, type PlannedOutput, type TranscodePlan } from "./plan.ts";
import { ProgressParser, progressFigures } from "./progress.ts";

/** The MSG_TRANSCODE payload: transcodeId, videoId, userId, attempt (≥ 1), transcode. */
export type TranscodeJob = TranscodeMessage["payload"];

/** What a successful transcode returns (the SUCCESS payload without the job reference). */
export interface TranscodeResult {
  outputs: TranscodeOutput[];
  source: SourceFacts;
  /** Encode wall time (ffmpeg start to exit), seconds. */
  elapsedSeconds: number;
  /** Output duration / elapsedSeconds, × real time; null when the duration is unknown. */
  speed: number | null;
  /** Disk estimate the plan was checked with, bytes (logged). */
  estimateBytes: number;
  /** Wall time of the uploads, milliseconds (logged). */
  uploadMs: number;
}

/**
 * Name of the completion marker under the attempt prefix: a small JSON manifest (request, source facts,
 * outputs) written after every output, so its presence means the attempt finished and is never replaced.
 */
export const COMPLETION_MARKER = "transcode.json";
/** Bytes of the upload read to tell what a file ffprobe refused really is. */
const SOURCE_HEAD_BYTES = 4096;
/** Files uploaded at once (each a streaming multipart upload of its own). */
export const UPLOAD_CONCURRENCY = 4;
/** Bound of ffmpeg's `-progress` output kept in flight, bytes (a block per second is ~300 bytes). */
const MAX_PROGRESS_BYTES = 256 * 1024 * 1024;

/** The transcode timeout: `TRANSCODE_TIMEOUT_SECONDS`. */
export function transcodeTimeoutSeconds(config: ProcessorConfig): number {
  return config.transcodeTimeoutSeconds ?? DEFAULT_TRANSCODE_TIMEOUT_SECONDS;
}

/**
 * Runs one transcode (see the module docstring).
 * @returns the measured outputs, the source facts, the encode time and speed
 * @throws JobError for anything to report as an ERROR event (bad or missing source, a height above the
 *   source without upscale, the disk bound, an ffmpeg failure, storage, `signal.reason` on abort or
 *   cancel); other errors are bugs, reported as internal errors by the runner
 */
export async function runTranscode(job: TranscodeJob, ctx: JobContext): Promise<TranscodeResult> {
  try {
    return await transcode(job, ctx);
  } catch (e) {
    // A storage outage while ffmpeg reads the source is transient, as for extractions: retried, not failed.
    throw await classifySourceFailure(e, job, ctx);
  }
}

async function transcode(job: TranscodeJob, ctx: JobContext): Promise<TranscodeResult> {
  const { config, storage, signal, workDir } = ctx;
  const bucket = config.videosBucket;
  const prefix = transcodeAttemptPrefix(job.userId, job.videoId, job.transcodeId, job.attempt);
  const sourceKey = sourceObjectKey(job.userId, job.videoId);
  const sizeBytes = await headSource(storage, bucket, sourceKey, signal);
  if (sizeBytes === 0) {
    throw new JobError("The file is empty (0 bytes), not a video.", "HeadObject on the source object reports Content-Length 0.");
  }
  // Valid for the whole job plus a margin: ffmpeg reconnects with the same URL.
  const url = await storage.presignGet(bucket, sourceKey, transcodeTimeoutSeconds(config) + 300);
  // The runner's check ran beside the source HEAD; the job repeats it only when that check could not tell.
  if (!(await ctx.outputsAbsent)) await refuseFinishedAttempt(storage, bucket, prefix, signal);

  const probe = await probeSource(ctx.bins.ffprobe, url, {
    cwd: workDir,
    signal,
    sizeBytes,
    readHead: () => storage.readHead(bucket, sourceKey, SOURCE_HEAD_BYTES, signal),
  });
  const { facts } = probe;
  ctx.log.info("probed", { source: facts, hasAudio: probe.audioStreamIndex !== null });
  checkProbeLimits(facts, config);
  const plan = planTranscode(job.transcode, {
    width: facts.width,
    height: facts.height,
    sampleAspectRatio: probe.sampleAspectRatio,
    rotationDegrees: facts.rotationDegrees,
    frameRate: facts.frameRate,
    durationSeconds: facts.durationSeconds,
    hasAudio: probe.audioStreamIndex !== null,
  });
  const fsStats = await statfs(workDir);
  const estimateBytes = checkDiskEstimate(
    plan,
    facts.frameRate,
    fsStats.bavail * fsStats.bsize,
    config.transcodeMaxWorkBytes ?? DEFAULT_TRANSCODE_MAX_WORK_BYTES,
  );
  ctx.log.info("transcode plan", {
    outputs: plan.outputs.map((o) => `${o.rendition} ${o.width}x${o.height}${o.audio ? "" : " no-audio"}`),
    startSeconds: plan.startSeconds,
    durationSeconds: plan.durationSeconds,
    estimateBytes,
  });

  const started = Date.now();
  await encode(ctx, url, probe.streamIndex, probe.audioStreamIndex, plan);
  const elapsedSeconds = (Date.now() - started) / 1000;

  const { outputs, files } = await measureOutputs(ctx, plan, prefix);
  const uploadStarted = Date.now();
  const keys = [...files.map((f) => `${prefix}${f.file}`), `${prefix}${COMPLETION_MARKER}`];
  // Objects of an unfinished earlier run of this attempt (killed by SIGKILL or OOM before it could clean
  // up) would make the conditional uploads fail: the keys this run writes are cleared first, unless the
  // attempt finished meanwhile (checked again: a finished attempt is never replaced).
  await refuseFinishedAttempt(storage, bucket, prefix, signal);
  await storage.deleteKeys(bucket, keys, signal).catch((e: unknown) => {
    throw storageError("The transcode's storage could not be prepared.", e, signal);
  });
  try {
    await uploadFiles(storage, bucket, prefix, files, workDir, signal);
    const marker = {
      version: 1,
      transcodeId: job.transcodeId,
      videoId: job.videoId,
      attempt: job.attempt,
      createdAt: new Date().toISOString(),
      transcode: job.transcode satisfies TranscodeRequest,
      source: facts,
      outputs,
    };
    await storage.put(bucket, `${prefix}${COMPLETION_MARKER}`, JSON.stringify(marker, null, 2), "application/json", signal).catch((e: unknown) => {
      throw storageError("The transcode's outputs could not be stored.", e, signal);
    });
  } catch (e) {
    // Nothing of a failed attempt stays stored (no partial output): the uploads were settled above.
    await deleteAttemptOutput(ctx, prefix, keys);
    throw e;
  }
  const duration = outputs.find((o) => o.durationSeconds !== null)?.durationSeconds ?? plan.durationSeconds;
  return {
    outputs,
    source: facts,
    elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
    speed: duration && elapsedSeconds > 0 ? Math.round((duration / elapsedSeconds) * 1000) / 1000 : null,
    estimateBytes,
    uploadMs: Date.now() - uploadStarted,
  };
}

/**
 * Runs the one ffmpeg of the plan in the work folder, reporting progress from its `-progress` blocks.
 * @throws JobError from its stderr when it fails (a full disk named as such), `signal.reason` on abort
 */
async function encode(ctx: JobContext, url: string, videoStreamIndex: number, audioStreamIndex: number | null, plan: TranscodePlan): Promise<void> {
  const { signal, workDir } = ctx;
  // The HLS muxer writes into existing folders only.
  for (const o of plan.outputs) await mkdir(path.join(workDir, path.dirname(o.file)), { recursive: true });
  const args = buildTranscodeArgs({ url, videoStreamIndex, audioStreamIndex }, plan);
  const parser = new ProgressParser();
  const { code, stderr } = await runProcess(ctx.bins.ffmpeg, args, {
    cwd: workDir,
    signal,
    maxStdoutBytes: MAX_PROGRESS_BYTES,
    onStdout: (text) => {
      for (const sample of parser.push(text)) {
        const f = progressFigures(sample, plan.durationSeconds);
        ctx.progress(f.fraction, {}, { speed: f.speed, etaSeconds: f.etaSeconds });
      }
    },
  });
  signal.throwIfAborted();
  if (code !== 0) {
    const description = stderrTail(stderr.split("\n"), [url, workDir]) || `ffmpeg exited with code ${code}`;
    if (/No space left on device/i.test(stderr)) {
      throw new JobError("The processor ran out of disk space while encoding; try again later or ask for fewer renditions.", description);
    }
    throw new JobError(unreadableVideoMessage(stderr), description);
  }
}

/** One file to upload: its path relative to the work folder (= its key under the attempt prefix). */
interface UploadFile {
  file: string;
  contentType: string;
}

/**
 * Refuses an output without a video frame (no video stream, or 0 s long): a trim that starts after the
 * video's last frame (but before its duration) encodes none, and a rendition is video. Nothing is uploaded then.
 * @param file the output, relative to the work folder (named in the detail)
 * @throws JobError (permanent) naming the span when the transcode was trimmed
 */
function requireVideo(measured: Pick<MeasuredMedia, "width" | "height" | "durationSeconds">, plan: Pick<TranscodePlan, "startSeconds">, file: string): void {
  // An HLS variant's init segment declares the video track even when no segment holds a frame: 0 s long.
  if (measured.width !== null && measured.height !== null && measured.durationSeconds !== 0) return;
  throw new JobError(
    plan.startSeconds > 0
      ? `No video frame lies in the requested span: startSeconds (${plan.startSeconds}) is after the video's last frame.`
      : "The transcode produced no video frame.",
    `${file}: the encoded output has no video frame (${measured.width === null ? "no video stream" : "0 s long"})`,
  );
}

/**
 * Measures every output (ffprobe, sizes), writes the HLS master playlist, and lists the files to upload.
 * @returns the SUCCESS outputs in plan order (the HLS master before its variants) and the files
 */
async function measureOutputs(ctx: JobContext, plan: TranscodePlan, prefix: string): Promise<{ outputs: TranscodeOutput[]; files: UploadFile[] }> {
  const { signal, workDir, config } = ctx;
  const opts = { cwd: workDir, signal };
  const uri = (file: string) => s3Uri(config.videosBucket, `${prefix}${file}`);
  const kbps = (bytes: number, seconds: number | null) => (seconds ? Math.round((bytes * 8) / seconds / 10) / 100 : null);
  const outputs: TranscodeOutput[] = [];
  const files: UploadFile[] = [];
  const variants: { output: PlannedOutput; measured: MeasuredVariant }[] = [];
  for (const o of plan.outputs) {
    if (o.format === "hls") {
      const measured = await measureVariant(ctx.bins.ffprobe, o.file, opts);
      requireVideo(measured, plan, o.file);
      variants.push({ output: o, measured });
      for (const file of measured.files) files.push({ file, contentType: hlsContentType(file) });
      continue;
    }
    const measured = await probeOutput(ctx.bins.ffprobe, o.file, opts);
    requireVideo(measured, plan, o.file);
    const sizeBytes = (await stat(path.join(workDir, o.file))).size;
    files.push({ file: o.file, contentType: RENDITION_CONTENT_TYPES[o.format] });
    outputs.push({
      rendition: o.rendition,
      format: o.format,
      contentType: RENDITION_CONTENT_TYPES[o.format],
      uri: uri(o.file),
      sizeBytes,
      width: measured.width,
      height: measured.height,
      durationSeconds: measured.durationSeconds,
      bitrateKbps: kbps(sizeBytes, measured.durationSeconds),
      hasAudio: measured.hasAudio,
    });
  }
  if (plan.hlsMaster && variants.length > 0) {
    const fmp4 = variants.some((v) => v.measured.playlist.initUri !== null);
    const master = buildMasterPlaylist(
      variants.map(({ measured: m }) => ({
        // Relative to hls/master.m3u8: `720/index.m3u8`.
        uri: path.posix.relative(path.posix.dirname(plan.hlsMaster!.file), m.files[0]!),
        peakBitsPerSecond: m.peakBitsPerSecond,
        averageBitsPerSecond: m.durationSeconds ? (m.sizeBytes * 8) / m.durationSeconds : m.peakBitsPerSecond,
        width: m.width ?? 0,
        height: m.height ?? 0,
        codecs: [avc1Codec(m.profile, m.level), ...(m.hasAudio ? [AAC_LC_CODEC] : [])],
        frameRate: m.frameRate,
      })),
      fmp4 ? 7 : 3,
    );
    await writeFile(path.join(workDir, plan.hlsMaster.file), master);
    files.push({ file: plan.hlsMaster.file, contentType: hlsContentType(plan.hlsMaster.file) });
    const tallest = variants.reduce((a, b) => ((b.measured.height ?? 0) > (a.measured.height ?? 0) ? b : a)).measured;
    const total = variants.reduce((s, v) => s + v.measured.sizeBytes, Buffer.byteLength(master));
    const duration = Math.max(...variants.map((v) => v.measured.durationSeconds ?? 0));
    const variantOutputs: TranscodeOutput[] = variants.map(({ output: o, measured: m }) => ({
      rendition: o.rendition,
      format: "hls",
      contentType: RENDITION_CONTENT_TYPES.hls,
      uri: uri(o.file),
      sizeBytes: m.sizeBytes,
      width: m.width,
      height: m.height,
      durationSeconds: m.durationSeconds,
      bitrateKbps: kbps(m.sizeBytes, m.durationSeconds),
      hasAudio: m.hasAudio,
    }));
    // The master first, at the HLS rendition's place in the request.
    const at = plan.outputs.findIndex((o) => o.format === "hls");
    const before = plan.outputs.slice(0, at).filter((o) => o.format !== "hls").length;
    outputs.splice(
      before,
      0,
      {
        rendition: plan.hlsMaster.rendition,
        format: "hls",
        contentType: RENDITION_CONTENT_TYPES.hls,
        uri: uri(plan.hlsMaster.file),
        sizeBytes: total,
        width: tallest.width,
        height: tallest.height,
        durationSeconds: duration,
        bitrateKbps: kbps(total, duration),
        hasAudio: variants.some((v) => v.measured.hasAudio),
      },
      ...variantOutputs,
    );
  }
  return { outputs, files };
}

/**
 * Uploads files from the work folder under `prefix`, {@link UPLOAD_CONCURRENCY} at once, each with a
 * streaming (multipart when large) conditional upload. Settles only once every started upload settled
 * (so a cleanup after it sees everything); on abort, the uploads in flight are aborted.
 * @throws the first failure (a storage JobError, or `signal.reason`)
 */
async function uploadFiles(storage: Storage, bucket: string, prefix: string, files: readonly UploadFile[], cwd: string, signal: AbortSignal): Promise<void> {
  const queue = [...files];
  const inflight = new Set<StreamUpload>();
  let failure: unknown;
  const onAbort = () => {
    for (const u of inflight) void u.abort().catch(() => undefined);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined && failure === undefined; next = queue.shift()) {
      if (signal.aborted) {
        failure ??= signal.reason;
        return;
      }
      const upload = storage.uploadStream(bucket, `${prefix}${next.file}`, createReadStream(path.join(cwd, next.file)), next.contentType);
      inflight.add(upload);
      try {
        await upload.done;
      } catch (e) {
        failure ??= storageError("The transcode's outputs could not be stored.", e, signal);
      } finally {
        inflight.delete(upload);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, worker));
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (failure !== undefined) throw failure;
}

/** Bound of the cleanup's S3 calls, ms (they run after the job's own signal may have fired). */
const CLEANUP_TIMEOUT_MS = 60_000;

/**
 * Deletes this attempt's partial output: every key it uploaded or was uploading (all uploads settled).
 * Deletes nothing when the attempt's completion marker exists (another run of the same attempt finished:
 * its output is never touched). Never throws: a failure is logged (the objects are then left to the API's
 * deletion of the transcode).
 * @param keys full keys this run writes
 */
async function deleteAttemptOutput(ctx: JobContext, prefix: string, keys: readonly string[]): Promise<void> {
  const bucket = ctx.config.videosBucket;
  try {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    if (await transcodeMarkerExists(ctx.storage, bucket, prefix, signal)) return;
    await ctx.storage.deleteKeys(bucket, keys, signal);
    ctx.log.info("partial output deleted", { objects: keys.length });
  } catch (e) {
    ctx.log.error("partial output not deleted", { error: String((e as Error)?.message ?? e) });
  }
}

/**
 * A finished attempt (its completion marker exists) is never replaced: the job fails.
 * @throws JobError "already stored", or a storage error
 */
async function refuseFinishedAttempt(storage: Storage, bucket: string, prefix: string, signal: AbortSignal): Promise<void> {
  if (await transcodeMarkerExists(storage, bucket, prefix, signal)) {
    throw new JobError(
      "The outputs of this transcode attempt are already stored; they are never replaced.",
      `${COMPLETION_MARKER} of this attempt already exists in the videos bucket: the job was sent again after it finished.`,
    );
  }
}

/**
 * @returns true when the completion marker of the attempt under `prefix` exists
 * @throws the storage error of a failed HEAD (other than 404), or `signal.reason`
 */
export async function transcodeMarkerExists(storage: Storage, bucket: string, prefix: string, signal: AbortSignal): Promise<boolean> {
  try {
    await storage.objectSize(bucket, `${prefix}${COMPLETION_MARKER}`, signal);
    return true;
  } catch (e) {
    signal.throwIfAborted();
    if (isNotFound(e)) return false;
    throw storageError("The transcode's storage could not be checked.", e, signal);
  }
}
