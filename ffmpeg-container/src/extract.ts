/**
 * One extraction job: HEAD the source, probe it over a presigned URL, decode the chosen frames with
 * ffmpeg into a JPEG pipe, stream them into a ZIP that is uploaded while it grows, then store the
 * manifest beside it. Nothing of the video is kept in memory or on disk; the job's temp folder (ffmpeg's
 * working folder) is removed whatever happens.
 *
 * Hostile input (input-checks.ts): an empty object is refused before probing; a file ffprobe refuses is
 * explained (playlist, image, text, audio…); the duration and frame-size limits are checked on ffprobe's
 * facts before decoding, the image-count and duration limits again while decoding (ffmpeg is killed).
 *
 * Interval and timestamps modes have two strategies with identical outputs (interval-strategy.ts has the
 * rule): one sequential decode of every frame, or one seek per image (≤ 2 ffmpeg at once) when the keyframe
 * index shows that seeking decodes at most half as many frames, overhead included. With `accuracy:
 * "keyframe"` they decode only the keyframes nearest the targets (chosen from the same index). Keyframes
 * and scene modes are one sequential run. Options (schema/extraction-options.ts) shape the plan: format
 * and quality (encoder), maxWidth/maxHeight (scale), maxImages (`-frames:v`), the window (select + trim);
 * `planJob` decides, ffmpeg-args.ts builds the arguments.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { IMAGE_FORMATS, type ExtractionOptions } from "../../schema/extraction-options.ts";
import { Manifest, type ManifestImage, type SourceFacts } from "../../schema/manifest.ts";
import type { ExtractSnapshotMessage } from "../../schema/messages/extract-snapshot.ts";
import {
  archiveObjectKey,
  manifestObjectKey,
  s3Uri,
  sourceObjectKey,
} from "../../schema/object-keys.ts";
import { ArchiveUpload } from "./archive.ts";
import type { ProcessorConfig } from "./config.ts";
import { JobError } from "./errors.ts";
import {
  buildPacketIndexArgs,
  buildSeekExtractArgs,
  imageEntryName,
  KEYFRAME_MATCH_SECONDS,
  keyframesSelectExpr,
  outputSpec,
  planFromOptions,
  TIMESTAMP_EPSILON_SECONDS,
  type ExtractPlan,
  type OutputSpec,
} from "./ffmpeg-args.ts";
import type { FfmpegBinaries } from "./ffmpeg-path.ts";
import { isStorageFailure, stderrTail, unreadableVideoMessage, watchFfmpegStderr, type ShowinfoFrame } from "./ffmpeg-log.ts";
import { createImageSplitter } from "./image-splitter.ts";
import { decodeImages, decodeInParallelSegments, segmentSplitPoint, type DecodedImage } from "./decode-stream.ts";
import type { Logger } from "./log.ts";
import { NearestKeyframePicker } from "./keyframe-picker.ts";
import {
  chooseIntervalStrategy,
  PacketIndexParser,
  resolveTimestampTargets,
  seekMightPayForTargets,
  seekVerified,
  type IntervalStrategyDecision,
  type IntervalTarget,
  type KeyframeIndex,
  type TimeWindow,
} from "./interval-strategy.ts";
import { checkProbeLimits, durationLimitError, imageLimitError } from "./input-checks.ts";
import { probeSource, type ProbeResult } from "./probe.ts";
import { runProcess, startProcess } from "./proc.ts";
import { presignGetUrl } from "./s3.ts";

/** The MSG_EXTRACT_SNAPSHOT payload: videoId, userId, attempt (≥ 1), options. */
export type JobPayload = ExtractSnapshotMessage["payload"];

/** Live progress of a job: share of the duration (or of the window) done, 0..1, by the latest image's time; images so far. */
export interface JobProgress {
  fraction: number;
  images: number;
}

/** What a successful job returns (the SUCCESS payload without the job reference). */
export interface JobResult {
  archiveUri: string;
  manifestUri: string;
  imageCount: number;
  zipSizeBytes: number;
  source: SourceFacts;
  /** Wall time of the ffmpeg extraction alone, milliseconds (logged). */
  extractMs: number;
  /** Interval and timestamps modes (exact): the strategy used. */
  intervalStrategy?: IntervalStrategyDecision["strategy"];
  /** `accuracy: "keyframe"` was honoured (false/absent: exact, or a fallback to exact). */
  keyframeAccuracy?: boolean;
}

/** What a job needs from the server: configuration, S3 client, binaries, logger, abort signal, progress sink. */
export interface JobContext {
  config: ProcessorConfig;
  s3: S3Client;
  bins: FfmpegBinaries;
  log: Logger;
  /** Aborted on timeout, client disconnect or shutdown; `signal.reason` is what the job throws. */
  signal: AbortSignal;
  /** Called after every image with the new progress. */
  onProgress(progress: JobProgress): void;
}

/**
 * Runs one job to completion.
 * @param payload the MSG_EXTRACT_SNAPSHOT payload
 * @returns the archive and manifest references, image count, ZIP size and source facts
 * @throws JobError for anything to report as an ERROR event (bad video, missing source, S3 failure,
 *   timeout — `signal.reason`); other errors are bugs and reported as internal errors by the server
 */
export async function runExtractionJob(payload: JobPayload, ctx: JobContext): Promise<JobResult> {
  const { config, s3, signal } = ctx;
  const jobId = `${payload.videoId}#${payload.attempt}`;
  const workDir = await mkdtemp(path.join(config.tmpDir, "vidsnap-job-"));
  let archive: ArchiveUpload | undefined;
  try {
    const sourceKey = sourceObjectKey(payload.userId, payload.videoId);
    const sizeBytes = await headSource(s3, config.videosBucket, sourceKey, signal);
    // Valid for the whole job plus a margin: ffmpeg reconnects with the same URL.
    const url = await presignGetUrl(config.s3, config.videosBucket, sourceKey, config.jobTimeoutSeconds + 300);

    if (sizeBytes === 0) {
      throw new JobError("The file is empty (0 bytes), not a video.", "HeadObject on the source object reports Content-Length 0.");
    }

    // Content check: ffprobe (input whitelists: real video containers only) identifies the container;
    // a refusal is explained from its log and the upload's first bytes.
    const probe = await probeSource(ctx.bins.ffprobe, url, {
      cwd: workDir,
      signal,
      sizeBytes,
      readHead: () => readSourceHead(s3, config.videosBucket, sourceKey, signal),
    });
    const { facts, streamIndex } = probe;
    ctx.log("info", "probed", { jobId, source: facts });
    // Resource limits from the declared facts, before anything is decoded.
    checkProbeLimits(facts, config);

    const archiveKey = archiveObjectKey(payload.userId, payload.videoId, payload.attempt);
    archive = new ArchiveUpload(s3, config.imagesBucket, archiveKey);
    const started = Date.now();
    const options = payload.options;
    const output = outputSpec(options);
    const window: TimeWindow = { startSeconds: options.startSeconds, endSeconds: options.endSeconds };
    const span = progressSpan(facts.durationSeconds, window);
    if (options.startSeconds !== undefined && facts.durationSeconds !== null && options.startSeconds >= facts.durationSeconds) {
      throw new JobError(
        `The requested start (${options.startSeconds} s) is at or after the end of the video (${facts.durationSeconds} s).`,
        "startSeconds must be below the video's duration.",
      );
    }
    const run = await planJob(ctx, url, probe, options, window, output, workDir);
    const { decision: strategy, plan } = run;
    if (strategy) {
      const { targets, ...rest } = strategy;
      ctx.log("info", "interval strategy", { jobId, mode: options.mode, ...rest, images: targets.length, ms: Date.now() - started });
    }
    let images: ManifestImage[];
    if (strategy?.strategy === "seek") {
      // maxImages: the first N planned images (a cap); MAX_IMAGES: an error before decoding anything.
      const targets = options.maxImages !== undefined ? strategy.targets.slice(0, options.maxImages) : strategy.targets;
      if (targets.length > config.maxImages) throw imageLimitError(config.maxImages, targets.length);
      images = await extractImagesBySeeking(ctx, url, streamIndex, targets, output, span, workDir, archive);
    } else {
      // Long sequential decodes: two halves at once (decode-stream.ts).
      const splitSeconds = segmentSplitPoint(
        plan,
        span,
        { pixels: facts.width * facts.height, frameRate: facts.frameRate },
        seekVerified(facts.videoCodec, facts.formatName),
        os.availableParallelism(),
        config.segmentSplitMinPixelFrames,
      );
      if (splitSeconds !== null) ctx.log("info", "parallel segments", { jobId, segments: 2, splitSeconds });
      images = await extractImages(ctx, url, streamIndex, plan, span, workDir, archive, run.emptyMessage, run.keyframePick, splitSeconds);
    }
    const keyframeOfTarget = run.keyframePick?.picker.perTarget;
    const skippedTimestampsSeconds = run.timestamps ? skippedTargets(run.timestamps, images, keyframeOfTarget) : undefined;
    const extractMs = Date.now() - started;
    if (run.keyframePick) ctx.log("info", "keyframe accuracy", { jobId, keyframes: images.length, ms: extractMs });

    const createdAt = new Date();
    const manifest = Manifest.parse({
      version: 1,
      videoId: payload.videoId,
      attempt: payload.attempt,
      createdAt: createdAt.toISOString(),
      options: payload.options,
      source: facts,
      imageFormat: output.format,
      contentType: IMAGE_FORMATS[output.format].contentType,
      images,
      ...(skippedTimestampsSeconds ? { skippedTimestampsSeconds } : {}),
    } satisfies Manifest);
    const manifestJson = JSON.stringify(manifest, null, 2);
    const zipSizeBytes = await archive.finish(manifestJson, createdAt).catch((e: unknown) => {
      throw storageError("The images archive could not be stored.", e, signal);
    });
    archive = undefined;

    const manifestKey = manifestObjectKey(payload.userId, payload.videoId, payload.attempt);
    await s3
      .send(
        new PutObjectCommand({
          Bucket: config.imagesBucket,
          Key: manifestKey,
          Body: manifestJson,
          ContentType: "application/json",
        }),
        { abortSignal: signal },
      )
      .catch((e: unknown) => {
        throw storageError("The images manifest could not be stored.", e, signal);
      });

    return {
      archiveUri: s3Uri(config.imagesBucket, archiveKey),
      manifestUri: s3Uri(config.imagesBucket, manifestKey),
      imageCount: images.length,
      zipSizeBytes,
      source: facts,
      extractMs,
      ...(strategy ? { intervalStrategy: strategy.strategy } : {}),
      ...(run.keyframePick ? { keyframeAccuracy: true } : {}),
    };
  } finally {
    if (archive) await archive.abort();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * HEAD of the source object.
 * @returns its size in bytes (null when the store does not say)
 * @throws JobError "not found" for a missing object, a storage error otherwise
 */
async function headSource(s3: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<number | null> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return head.ContentLength ?? null;
  } catch (e) {
    signal.throwIfAborted();
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === "NotFound" || (e as Error).name === "NoSuchKey") {
      throw new JobError(
        "The uploaded video was not found in storage.",
        "HeadObject on the source object returned 404 Not Found: the upload did not complete or the video was deleted.",
      );
    }
    throw storageError("The uploaded video could not be read from storage.", e, signal);
  }
}

/**
 * The first 4 KiB of the source object (ranged GET), to tell what a refused upload really is.
 * @returns the bytes, or null when they cannot be read
 */
async function readSourceHead(s3: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<Uint8Array | null> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: "bytes=0-4095" }), { abortSignal: signal });
    const bytes = await out.Body?.transformToByteArray();
    return bytes ? bytes.subarray(0, 4096) : null;
  } catch {
    return null;
  }
}

/** A JobError for an S3 failure (or the abort reason when the job was aborted). */
function storageError(message: string, e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof JobError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new JobError(message, `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`.slice(0, 1000));
}

/**
 * Runs one sequential ffmpeg and moves every image it writes into the archive as soon as its showinfo
 * line (its timestamp) is known. A long filtergraph (timestamps, keyframe lists) goes through a filter
 * script file in the job folder.
 * @param plan what to decode and how to encode it (`planFromOptions` or `planJob`)
 * @param span seconds [from, to] that progress fractions are measured over
 * @param emptyMessage errorMessage when ffmpeg succeeds without any image
 * @param keyframePick keyframe accuracy: every decoded keyframe goes through the picker and only the
 *   chosen ones are stored; once it is done (or `cap` images are stored) ffmpeg is stopped early
 * @returns the manifest entries, in order
 * @throws JobError when ffmpeg fails or produces no image
 */
async function extractImages(
  ctx: JobContext,
  url: string,
  streamIndex: number,
  plan: ExtractPlan,
  span: ProgressSpan,
  workDir: string,
  archive: ArchiveUpload,
  emptyMessage = "No image could be decoded from the video.",
  keyframePick?: KeyframePick,
  splitSeconds?: number | null,
): Promise<ManifestImage[]> {
  const { signal } = ctx;
  const format = plan.output.format;
  const images: ManifestImage[] = [];
  const mtime = new Date();
  /** Stores one image in the archive and the manifest list. */
  const store = async ({ data, info }: DecodedImage) => {
    const index = images.length;
    // MAX_IMAGES: one image too many stops ffmpeg (leaving the decode loop kills it).
    if (index >= ctx.config.maxImages) throw imageLimitError(ctx.config.maxImages);
    // Microsecond precision in the manifest; the file name is derived from the same value.
    const timestampSeconds = Math.round(Math.max(0, info.timestampSeconds) * 1e6) / 1e6;
    const fileName = imageEntryName(index, timestampSeconds, format);
    await archive.addFile(fileName, data, mtime).catch((e: unknown) => {
      throw storageError("The images archive could not be stored.", e, signal);
    });
    images.push({
      index,
      fileName,
      timestampSeconds,
      bytes: data.length,
      ...(info.width && info.height ? { width: info.width, height: info.height } : {}),
      contentType: IMAGE_FORMATS[format].contentType,
    });
  };
  const pick = keyframePick?.picker;
  /** Keyframe accuracy: `maxImages` images stored. */
  const capped = () => images.length >= (keyframePick?.cap ?? Number.POSITIVE_INFINITY);
  let lastDecodedSeconds = Number.NEGATIVE_INFINITY;
  let stoppedEarly = false;
  const decoded =
    splitSeconds != null
      ? decodeInParallelSegments(ctx, url, streamIndex, plan, splitSeconds, workDir)
      : decodeImages(ctx, url, streamIndex, plan, workDir);
  for await (const image of decoded) {
    const { info } = image;
    // MAX_DURATION_SECONDS also holds when the container declared no (or a false) duration.
    if (info.timestampSeconds > ctx.config.maxDurationSeconds) {
      throw durationLimitError(info.timestampSeconds, ctx.config.maxDurationSeconds, "decode");
    }
    lastDecodedSeconds = info.timestampSeconds;
    if (pick) {
      for (const chosen of pick.push(info.timestampSeconds, image)) {
        if (capped()) break;
        await store(chosen.item);
      }
    } else {
      await store(image);
    }
    ctx.onProgress({ fraction: span.fraction(info.timestampSeconds), images: images.length });
    // Keyframe accuracy: every target answered, or the cap reached; the rest of the video is not needed.
    if (pick && (pick.done || capped())) {
      stoppedEarly = true;
      break;
    }
  }
  if (pick && !stoppedEarly) {
    // The decode ended: targets still open take the last keyframe. Targets planned to a bound rather
    // than to the known end: only those up to the last keyframe count.
    for (const chosen of pick.finish(keyframePick!.targetsToEnd ? Number.POSITIVE_INFINITY : lastDecodedSeconds)) {
      if (capped()) break;
      await store(chosen.item);
    }
  }
  if (images.length === 0) throw new JobError(emptyMessage, "ffmpeg produced no frame");
  return images;
}

/** Seeks run at once: min(2, cores). */
export const SEEK_PARALLELISM = Math.max(1, Math.min(2, os.availableParallelism()));

/** Seconds [from, to] over which a job's progress is measured, and the fraction of a timestamp. */
export interface ProgressSpan {
  from: number;
  to: number | null;
  /** (t − from) / (to − from), clamped to 0..1; 0 when the end is unknown. */
  fraction(t: number): number;
}

/**
 * The progress span of a job: the window [startSeconds, endSeconds] cut to the duration.
 * @param durationSeconds ffprobe duration (null: unknown → fractions stay 0 unless a window end is given)
 */
export function progressSpan(durationSeconds: number | null, window: TimeWindow): ProgressSpan {
  const from = window.startSeconds ?? 0;
  const ends = [window.endSeconds, durationSeconds ?? undefined].filter((v): v is number => v !== undefined);
  const to = ends.length > 0 ? Math.min(...ends) : null;
  return {
    from,
    to,
    fraction: (t) => (to !== null && to > from ? Math.min(1, Math.max(0, (t - from) / (to - from))) : 0),
  };
}

/** How a job runs: a sequential plan, or the seek strategy's decision, plus what timestamps mode reports. */
interface JobRun {
  /** Sequential plan (used unless `decision.strategy` is `seek`). */
  plan: ExtractPlan;
  /** Interval/timestamps exact: the strategy decision. */
  decision?: IntervalStrategyDecision | undefined;
  /** Keyframe accuracy: the picker fed with every decoded keyframe. */
  keyframePick?: KeyframePick | undefined;
  /** Timestamps mode: the targets asked and those skipped before decoding. */
  timestamps?: { targets: number[]; skipped: number[] } | undefined;
  emptyMessage?: string | undefined;
}

/** Keyframe accuracy: how the decoded keyframes become images. */
interface KeyframePick {
  picker: NearestKeyframePicker<{ data: Buffer; info: ShowinfoFrame }>;
  /** `maxImages`: stop after this many images. */
  cap?: number | undefined;
  /**
   * True when the targets end at the video's known end (or are explicit timestamps); false when the
   * duration is unknown and interval targets were planned up to MAX_DURATION_SECONDS: then targets after
   * the last decoded keyframe are dropped instead of all taking it.
   */
  targetsToEnd: boolean;
}

/**
 * Decides how a job runs from its options and the probe:
 * - keyframes, scene: the sequential plan of the options;
 * - interval / timestamps with `accuracy: "keyframe"`: a keyframes-only decode of the window whose
 *   keyframes go through a {@link NearestKeyframePicker} (no index is read first);
 * - interval / timestamps exact: the strategy rule of interval-strategy.ts (seek per target or one
 *   sequential pass with the `select` of the mode).
 * @throws JobError when no timestamp lies within the video and the window
 */
async function planJob(
  ctx: JobContext,
  url: string,
  probe: ProbeResult,
  options: ExtractionOptions,
  window: TimeWindow,
  output: OutputSpec,
  workDir: string,
): Promise<JobRun> {
  const { facts } = probe;
  // A window that starts late is reached by an input seek where seeking is verified clean; elsewhere the
  // decode starts at the file's start (the select applies the window either way).
  const seekSeconds =
    options.startSeconds !== undefined && options.startSeconds > 0 && seekVerified(facts.videoCodec, facts.formatName)
      ? options.startSeconds
      : undefined;
  if (options.mode === "keyframes" || options.mode === "scene") return { plan: { ...planFromOptions(options), seekSeconds } };

  let timestamps: JobRun["timestamps"];
  let emptyMessage: string | undefined;
  if (options.mode === "timestamps") {
    timestamps = resolveTimestampTargets(options.timestampsSeconds, window, facts.durationSeconds);
    emptyMessage = `None of the requested timestamps lies within the video${facts.durationSeconds !== null ? ` (${facts.durationSeconds} s long)` : ""}${options.startSeconds !== undefined || options.endSeconds !== undefined ? " and the requested window" : ""}.`;
    if (timestamps.targets.length === 0) {
      throw new JobError(emptyMessage, `requested: ${options.timestampsSeconds.slice(0, 20).join(", ")}${options.timestampsSeconds.length > 20 ? ", …" : ""}`);
    }
  }

  if (options.accuracy === "keyframe") {
    // Keyframes-only decode of the window; the picker keeps the keyframe nearest each target.
    const targetsToEnd = options.mode === "timestamps" || facts.durationSeconds !== null;
    const targets =
      options.mode === "timestamps"
        ? timestamps!.targets
        : intervalTargets(options.intervalSeconds, window, facts.durationSeconds ?? ctx.config.maxDurationSeconds);
    return {
      plan: {
        keyframesOnly: true,
        select: keyframesSelectExpr(options.startSeconds, options.endSeconds),
        endSeconds: options.endSeconds,
        seekSeconds,
        output,
      },
      keyframePick: { picker: new NearestKeyframePicker(targets, window), cap: options.maxImages, targetsToEnd },
      timestamps,
      emptyMessage,
    };
  }

  const decision = await chooseStrategy(
    ctx,
    url,
    probe,
    options.mode === "timestamps" ? { targetTimes: timestamps!.targets, window } : { intervalSeconds: options.intervalSeconds, window },
    workDir,
  );
  return { plan: { ...planFromOptions(options, timestamps?.targets), seekSeconds }, decision, timestamps, emptyMessage };
}

/**
 * Interval targets S, S + N, … below the end (window end or `endSeconds`), at least S itself (a video
 * shorter than N still gets its first frame).
 * @param endSeconds the video's duration (or a bound on it when unknown), seconds
 */
function intervalTargets(intervalSeconds: number, window: TimeWindow, endSeconds: number): number[] {
  const start = window.startSeconds ?? 0;
  const end = Math.min(window.endSeconds ?? Number.POSITIVE_INFINITY, endSeconds);
  const out = [start];
  for (let k = 1; start + k * intervalSeconds < end - TIMESTAMP_EPSILON_SECONDS; k++) out.push(start + k * intervalSeconds);
  return out;
}

/**
 * Timestamps mode: the requested targets that gave no image, ascending — those skipped before decoding
 * (window, past the duration) and those after the last image (past the last frame, or beyond maxImages).
 * With keyframe accuracy a target counts as answered when its keyframe is among the images.
 */
function skippedTargets(
  timestamps: { targets: number[]; skipped: number[] },
  images: ManifestImage[],
  keyframeOfTarget: number[] | undefined,
): number[] {
  const last = images.at(-1)?.timestampSeconds ?? Number.NEGATIVE_INFINITY;
  const late = timestamps.targets.filter((t, i) => {
    const landsAt = keyframeOfTarget ? keyframeOfTarget[i]! : t;
    return !(landsAt <= last + KEYFRAME_MATCH_SECONDS);
  });
  return [...timestamps.skipped, ...late].sort((a, b) => a - b);
}

/**
 * Reads the packet index with ffprobe (demuxing only), parsed as it arrives (never held whole).
 * @returns null when it cannot be read (ffprobe fails or prints more than 64 MiB, ~4 million packets)
 */
async function readPacketIndex(ctx: JobContext, url: string, probe: ProbeResult, workDir: string): Promise<KeyframeIndex | null> {
  if (!probe.timeBase) return null;
  const parser = new PacketIndexParser(probe.timeBase, probe.startSeconds);
  const { code } = await runProcess(ctx.bins.ffprobe, buildPacketIndexArgs(url, probe.streamIndex), {
    cwd: workDir,
    signal: ctx.signal,
    maxStdoutBytes: 64 * 1024 * 1024,
    onStdout: (text) => parser.push(text),
  }).catch(() => ({ code: -1 }));
  ctx.signal.throwIfAborted();
  if (code !== 0) return null;
  return parser.end();
}

/**
 * Picks the strategy of interval or timestamps mode (rule: `chooseIntervalStrategy` in
 * interval-strategy.ts). Reads the keyframe index with ffprobe (packets only, no decoding) unless seeking
 * cannot pay anyway (`seekMightPayForTargets`) or the configuration forces `sequential`. Any index
 * failure means sequential.
 * @param spec `intervalSeconds` N and the window, or the explicit `targetTimes` (timestamps mode)
 * @returns the decision (with the planned targets when it is `seek`)
 */
async function chooseStrategy(
  ctx: JobContext,
  url: string,
  probe: ProbeResult,
  spec: { intervalSeconds?: number; window?: TimeWindow; targetTimes?: readonly number[] },
  workDir: string,
): Promise<IntervalStrategyDecision> {
  const setting = ctx.config.intervalStrategy ?? "auto";
  const { facts } = probe;
  const sequential = (reason: string): IntervalStrategyDecision => ({
    strategy: "sequential",
    reason,
    sequentialFrames: 0,
    seekFrames: 0,
    targets: [],
  });
  if (setting === "sequential") return sequential("forced by configuration");
  const span = progressSpan(facts.durationSeconds, spec.window ?? {});
  const spanSeconds = span.to !== null ? span.to - span.from : null;
  const targetCount = spec.targetTimes
    ? spec.targetTimes.length
    : spanSeconds !== null && spec.intervalSeconds
      ? Math.ceil(spanSeconds / spec.intervalSeconds)
      : 0;
  // The sequential pass decodes from the file's start up to the window's end.
  if (setting === "auto" && !seekMightPayForTargets(targetCount, span.to, facts.frameRate, facts.width, facts.height)) {
    return sequential("one seek per target cannot beat a full decode (or duration/frame rate unknown)");
  }
  const index = await readPacketIndex(ctx, url, probe, workDir);
  if (!index) return sequential(probe.timeBase ? "the keyframe index could not be read" : "no stream time base");
  const decision = chooseIntervalStrategy({
    codec: facts.videoCodec,
    formatName: facts.formatName,
    width: facts.width,
    height: facts.height,
    intervalSeconds: spec.intervalSeconds,
    targetTimes: spec.targetTimes,
    window: spec.window,
    index,
  });
  if (setting === "seek" && decision.targets.length > 0) return { ...decision, strategy: "seek", reason: `forced by configuration (${decision.reason})` };
  return decision;
}

/** What one ffmpeg run of the seek strategy produced. */
interface OneImage {
  jpeg?: Buffer;
  info?: ShowinfoFrame;
  code: number | null;
  otherLines: string[];
}

/** Runs one ffmpeg that writes at most one JPEG (seek strategy) and collects it with its showinfo frame. */
async function decodeOneImage(
  ctx: JobContext,
  args: string[],
  format: OutputSpec["format"],
  workDir: string,
  signal: AbortSignal,
): Promise<OneImage> {
  const { child, exited } = startProcess(ctx.bins.ffmpeg, args, { cwd: workDir, signal });
  // The child's "close" (exited) comes after its stderr closed: `frames` is complete then.
  const { frames, otherLines } = watchFfmpegStderr(child.stderr);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  const { code } = await exited;
  const splitter = createImageSplitter(format);
  let jpegs: Buffer[] = [];
  try {
    jpegs = [...splitter.push(Buffer.concat(chunks))];
    splitter.end();
  } catch {
    jpegs = [];
  }
  // `-frames:v 1` writes one image, but showinfo may have logged the next frame already: the first is it.
  return jpegs.length === 1 && frames.length >= 1 ? { jpeg: jpegs[0]!, info: frames[0]!, code, otherLines } : { code, otherLines };
}

/**
 * Seek strategy: one ffmpeg per planned image (up to {@link SEEK_PARALLELISM} at once), each seeking to
 * the keyframe before its frame; images enter the archive in order, as they would sequentially.
 * Runtime guard: an image whose timestamp is not the frame the index predicts (or a failed seek) is
 * decoded again from the start of the file (no seek, always the sequential answer).
 * @returns the manifest entries, in order (same as `extractImages` in interval mode)
 * @throws JobError when even the decode from the start gives no image
 */
async function extractImagesBySeeking(
  ctx: JobContext,
  url: string,
  streamIndex: number,
  targets: IntervalTarget[],
  output: OutputSpec,
  span: ProgressSpan,
  workDir: string,
  archive: ArchiveUpload,
): Promise<ManifestImage[]> {
  const { signal } = ctx;
  // Stops the seeks still running when this function leaves early (error), not only on job abort.
  const local = new AbortController();
  const runSignal = AbortSignal.any([signal, local.signal]);
  /** Tolerance between the index's frame time and showinfo's, seconds: far below any frame interval. */
  const tolerance = 5e-4;
  const decodeTarget = async (t: IntervalTarget): Promise<OneImage> => {
    const seeked = await decodeOneImage(
      ctx,
      buildSeekExtractArgs(url, streamIndex, t.keyframeSeconds, t.targetSeconds, output),
      output.format,
      workDir,
      runSignal,
    );
    if (seeked.info && seeked.code === 0 && Math.abs(seeked.info.timestampSeconds - t.frameSeconds) <= tolerance) return seeked;
    runSignal.throwIfAborted();
    ctx.log("warn", "seek gave another frame than the index; decoding from the start", {
      targetSeconds: t.targetSeconds,
      expected: t.frameSeconds,
      got: seeked.info?.timestampSeconds ?? null,
    });
    return decodeOneImage(ctx, buildSeekExtractArgs(url, streamIndex, Number.NaN, t.targetSeconds, output), output.format, workDir, runSignal);
  };

  const images: ManifestImage[] = [];
  const mtime = new Date();
  const pending = new Map<number, Promise<OneImage>>();
  let next = 0;
  try {
    for (let i = 0; i < targets.length; i++) {
      while (next < targets.length && next < i + SEEK_PARALLELISM) {
        const p = decodeTarget(targets[next]!);
        p.catch(() => undefined);
        pending.set(next++, p);
      }
      const one = await pending.get(i)!;
      pending.delete(i);
      signal.throwIfAborted();
      if (!one.jpeg || !one.info || one.code !== 0) {
        const tail = stderrTail(one.otherLines, [url, workDir, ctx.config.tmpDir]);
        throw new JobError(
          images.length > 0 && !isStorageFailure(one.otherLines.join("\n"))
            ? "Image extraction failed part-way through the video."
            : unreadableVideoMessage(one.otherLines.join("\n")),
          tail || `ffmpeg exited with code ${one.code} without an image`,
        );
      }
      const timestampSeconds = Math.round(Math.max(0, one.info.timestampSeconds) * 1e6) / 1e6;
      // One image per distinct frame, as sequentially (only possible after a guard fallback).
      if (images.length > 0 && images.at(-1)!.timestampSeconds === timestampSeconds) continue;
      const index = images.length;
      const fileName = imageEntryName(index, timestampSeconds, output.format);
      await archive.addFile(fileName, one.jpeg, mtime).catch((e: unknown) => {
        throw storageError("The images archive could not be stored.", e, signal);
      });
      images.push({
        index,
        fileName,
        timestampSeconds,
        bytes: one.jpeg.length,
        ...(one.info.width && one.info.height ? { width: one.info.width, height: one.info.height } : {}),
        contentType: IMAGE_FORMATS[output.format].contentType,
      });
      ctx.onProgress({ fraction: span.fraction(timestampSeconds), images: images.length });
    }
  } finally {
    local.abort();
    await Promise.allSettled(pending.values());
  }
  if (images.length === 0) throw new JobError("No image could be decoded from the video.", "ffmpeg produced no frame");
  return images;
}
