import os from "node:os";
import { IMAGE_FORMATS } from "../../../../schema/extraction-options.ts";
import { Manifest, type SourceFacts } from "../../../../schema/manifest.ts";
import type { ExtractSnapshotMessage } from "../../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey, s3Uri, sourceObjectKey } from "../../../../schema/object-keys.ts";
import { DamageLog } from "../../ffmpeg/damage.ts";
import type { SourceInput } from "../../ffmpeg/input-args.ts";
import { checkProbeLimits, imageLimitError } from "../../ffmpeg/input-checks.ts";
import { probeSource, type ProbeResult } from "../../ffmpeg/probe.ts";
import { JobError } from "../../runner/errors.ts";
import type { JobContext } from "../../runner/job-kind.ts";
import { STORAGE_UNREADABLE_MESSAGE } from "../../ffmpeg/stderr.ts";
import { headSource, isNotFound, storageError, type Storage } from "../../s3.ts";
import { readableSource, type ReadableSource } from "../../sources/source-cache.ts";
import { classifySourceFailure } from "../classify-failure.ts";
import { ArchiveUpload } from "./archive.ts";
import { decoderPixelGuard, FIRST_VIDEO_STREAM } from "./ffmpeg-args.ts";
import { ImageSink } from "./extractors/image-sink.ts";
import { extractBySeeking } from "./extractors/seek.ts";
import { extractSequentially } from "./extractors/sequential.ts";
import { segmentSplitPoint } from "./extractors/split.ts";
import { planBeforeProbe, planExtraction, progressSpan, skippedTargets, type ExtractionPlan } from "./plan/plan.ts";
import { seekVerified, type IntervalStrategyDecision } from "./plan/strategy.ts";

/** The MSG_EXTRACT_SNAPSHOT payload: videoId, userId, attempt (≥ 1), options, sourceEtag (optional). */
export type ExtractionJob = ExtractSnapshotMessage["payload"];

/** What a successful extraction returns (the SUCCESS payload without the job reference). */
export interface ExtractionResult {
  archiveUri: string;
  manifestUri: string;
  imageCount: number;
  zipSizeBytes: number;
  source: SourceFacts;
  /** Wall time of planning and decoding, milliseconds (logged). */
  extractMs: number;
  /** Interval and timestamps modes (exact): the strategy used. */
  intervalStrategy?: IntervalStrategyDecision["strategy"];
  /** `accuracy: "keyframe"` was honoured. */
  keyframeAccuracy?: boolean;
  /** The file was damaged: what was met (also in the manifest). */
  warnings?: string[];
}

/** Bytes of the upload read to tell what a file ffprobe refused really is. */
const SOURCE_HEAD_BYTES = 4096;

export { SOURCE_REPLACED_MESSAGE } from "../../s3.ts";

/**
 * Largest source a single-pass job (keyframes, scene, `accuracy: "keyframe"`: one ffmpeg run reading the
 * file once) copies locally, bytes. Above it the download, which the decode waits for, costs more than the
 * reads it saves: on the 22 MB 1350x1080 bench input the copy took 80–100 ms through the local S3 server and
 * saved ~50 ms of decoding over HTTP. Smaller sources are copied (their several requests per read cost more
 * than the transfer), and multi-read plans up to SOURCE_CACHE_MAX_FILE_BYTES.
 */
export const SINGLE_PASS_COPY_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Runs one extraction: get the source's local copy (../../sources/source-cache.ts: one GET when the job
 * carries `sourceEtag` and the source fits, else its presigned URL) beside the runner's output check
 * (`ctx.outputsAbsent`; the job's own when that could not tell), HEAD the source only when no GET answered for it, probe it, plan, decode the chosen frames into the archive while it uploads, then store the
 * manifest while the archive's upload completes. Keyframes and scene jobs (without `startSeconds`) decode
 * while ffprobe runs: their images wait until the probe's checks pass, and a failed check kills ffmpeg with
 * nothing stored; the decoder refuses pictures past `decoderPixelGuard` meanwhile. Phase timings are logged
 * as `extraction phases` (with `localCopy`). No image is kept in memory or on disk beyond the archive's
 * upload. With `job.sourceEtag`, every read of the source (the copy's GET, HEAD, ranged GETs, each
 * ffprobe/ffmpeg request over HTTP) carries `If-Match`; a source replaced since `complete` fails the job
 * with {@link SOURCE_REPLACED_MESSAGE}. Read over HTTP, a swap mid-job fails it too (ffmpeg then only sees
 * a 4xx, so a failed read is followed by one more conditional HEAD to tell); read from the copy, the job
 * finishes on the completed bytes.
 * @returns the archive and manifest references, image count, ZIP size and source facts
 * @throws JobError for anything to report as an ERROR event (bad video, missing or replaced source, S3
 *   failure, a limit, `signal.reason` on abort); other errors are bugs, reported as internal errors by the runner
 */
export async function runExtraction(job: ExtractionJob, ctx: JobContext): Promise<ExtractionResult> {
  try {
    return await extract(job, ctx);
  } catch (e) {
    throw await classifySourceFailure(e, job, ctx);
  }
}

async function extract(job: ExtractionJob, ctx: JobContext): Promise<ExtractionResult> {
  const { config, storage, signal } = ctx;
  const phases = new PhaseTimer();
  const sourceKey = sourceObjectKey(job.userId, job.videoId);
  const archiveKey = archiveObjectKey(job.userId, job.videoId, job.attempt);
  const manifestKey = manifestObjectKey(job.userId, job.videoId, job.attempt);
  // Valid for the whole job plus a margin: ffmpeg reconnects with the same URL. Signed only for a read over HTTP.
  const presign = () => storage.presignGet(config.videosBucket, sourceKey, config.jobTimeoutSeconds + 300);
  // The local copy (one GET with If-Match; every later read is the file) and the output checks do not
  // depend on each other: one round trip of time. The GET's answer is the source check a HEAD would make
  // (exists, still has the recorded ETag, its size), and a copy another job or render downloaded holds the
  // bytes that ETag names (renders read it the same way); only a source read over HTTP without an answered
  // GET (no ETag, copies off, the GET failed) gets the HEAD. Errors are thrown in the order they were
  // checked one by one (source first).
  // Keyframes and scene jobs, and `accuracy: "keyframe"` (one keyframes-only decode), read the file once.
  const singlePass = planBeforeProbe(job.options) !== null || ("accuracy" in job.options && job.options.accuracy === "keyframe");
  const checkedSource = readableSource(ctx.sources, storage, { bucket: config.videosBucket, key: sourceKey, etag: job.sourceEtag }, presign, signal, singlePass ? SINGLE_PASS_COPY_MAX_BYTES : undefined)
    .then(async (source) => {
      try {
        return { source, sizeBytes: source.sizeBytes ?? (await headSource(storage, config.videosBucket, sourceKey, signal, job.sourceEtag)) };
      } catch (e) {
        source.release();
        throw e;
      }
    });
  // The output of a finished attempt is never replaced (a replayed or forged job would swap a user's
  // archive); the uploads are also conditional (If-None-Match: *) where the store supports it. The
  // runner checks it beside this (`outputsAbsent`): the job repeats it only when that check could not tell.
  const outputsChecked = (ctx.outputsAbsent ?? Promise.resolve(false)).then(async (absent) => {
    if (!absent) await Promise.all([archiveKey, manifestKey].map((key) => refuseExisting(storage, config.imagesBucket, key, signal)));
  });
  const [checked, ...outputChecks] = await Promise.allSettled([checkedSource, outputsChecked]);
  if (checked.status === "rejected") throw checked.reason;
  const { source, sizeBytes } = checked.value;
  try {
    return await extractFrom(job, ctx, phases, { sourceKey, archiveKey, manifestKey }, sizeBytes, source, outputChecks);
  } finally {
    source.release();
  }
}

/** The extraction once the source is checked and readable (see {@link runExtraction}). */
async function extractFrom(
  job: ExtractionJob,
  ctx: JobContext,
  phases: PhaseTimer,
  { sourceKey, archiveKey, manifestKey }: { sourceKey: string; archiveKey: string; manifestKey: string },
  sizeBytes: number | null,
  source: ReadableSource,
  outputChecks: PromiseSettledResult<void>[],
): Promise<ExtractionResult> {
  const { config, storage, signal } = ctx;
  const url = source.input;
  if (sizeBytes === 0) {
    throw new JobError("The file is empty (0 bytes), not a video.", "HeadObject on the source object reports Content-Length 0.");
  }
  for (const check of outputChecks) if (check.status === "rejected") throw check.reason;
  phases.lap("inputChecks");

  // ffprobe (input whitelists: real video containers only) identifies the container; a refusal is
  // explained from its log and the upload's first bytes. Then the resource limits from the declared
  // facts, before any image is stored.
  const probeStarted = performance.now();
  const checked = probeSource(ctx.bins.ffprobe, url, {
    cwd: ctx.workDir,
    signal,
    sizeBytes,
    readHead: () => storage.readHead(config.videosBucket, sourceKey, SOURCE_HEAD_BYTES, signal, job.sourceEtag),
  }).then((probe) => {
    phases.record("probe", performance.now() - probeStarted);
    ctx.log.info("probed", { source: probe.facts });
    checkProbeLimits(probe.facts, config);
    return probe;
  });
  // A plan that needs no facts (keyframes, scene) decodes while ffprobe runs; its images are held back
  // until the checks pass, and ffmpeg is killed (nothing stored) when they fail.
  const early = planBeforeProbe(job.options);
  const decodeAbort = new AbortController();
  checked.catch((e: unknown) => decodeAbort.abort(e));
  let probe: ProbeResult | undefined;
  let run: ExtractionPlan;
  if (early) {
    run = early;
  } else {
    probe = await checked;
    run = await planExtraction(ctx, url, probe, job.options);
  }
  const started = Date.now();
  const options = job.options;
  const { decision } = run;
  run.sequential.maxDecodedPixels = decoderPixelGuard(config.maxPixelsPerFrame);
  if (decision) {
    const { targets, ...rest } = decision;
    ctx.log.info("interval strategy", { mode: options.mode, ...rest, images: targets.length, ms: Date.now() - started });
  }
  phases.lap("plan");
  // MAX_IMAGES with the seek strategy: an error before decoding anything.
  if (run.seekTargets && run.seekTargets.length > config.maxImages) throw imageLimitError(config.maxImages, run.seekTargets.length);

  let archive: ArchiveUpload | undefined = new ArchiveUpload(storage, config.imagesBucket, archiveKey);
  // Damage met by every ffmpeg run: decoded around, reported as warnings; ERROR only without any image.
  let damage = new DamageLog();
  const decodeSignal = AbortSignal.any([signal, decodeAbort.signal]);
  try {
    const heldUntil = early
      ? checked.then((p) => {
          run.span = progressSpan(p.facts.durationSeconds, { startSeconds: options.startSeconds, endSeconds: options.endSeconds });
        })
      : undefined;
    // Its rejection reaches the job through `checked` when no image ever waited for it.
    heldUntil?.catch(() => undefined);
    const sink = new ImageSink(archive, run.output.format, config.maxImages, signal, heldUntil);
    for (let fromStart = false; ; fromStart = true) {
      const extractCtx = { ...ctx, damage, signal: decodeSignal };
      try {
        if (probe) await extractImages(extractCtx, run, { url, streamIndex: probe.streamIndex }, probe.facts, sink);
        else await extractSequentially(extractCtx, { url, streamIndex: FIRST_VIDEO_STREAM }, run, sink, null);
        break;
      } catch (e) {
        // A decode that started before the probe: a refused file fails with the probe's explanation (the
        // decode of a PNG or a playlist only says it could not read it).
        if (!probe) await checked;
        // A read the storage broke off (connection refused mid-decode) also leaves decode errors behind: that is a
        // transient fault to retry, never a damaged file.
        const storageFault = e instanceof JobError && (e.retryable || e.message === STORAGE_UNREADABLE_MESSAGE);
        const damagedOnly = damage.damaged && !signal.aborted && e instanceof JobError && !storageFault && sink.images.length === 0;
        // The input seek to a late start landed where no frame decodes (display-dual-monitors.webm past its
        // last cue: a cluster without a keyframe): the same plan decoded from the file's start follows the
        // select exactly, so a clean decode there settles it. Renders do the same.
        if (damagedOnly && !fromStart && !run.seekTargets && !run.keyframePick && run.sequential.seekSeconds !== undefined) {
          ctx.log.warn("decode from the start", { reason: "the input seek decoded no image", seekSeconds: run.sequential.seekSeconds });
          run = { ...run, sequential: { ...run.sequential, seekSeconds: undefined } };
          damage = new DamageLog();
          continue;
        }
        if (damagedOnly) {
          throw new JobError("No usable image could be decoded: the video is damaged.", [e.description, ...damage.warnings()].filter(Boolean).join(" ").slice(0, 4000));
        }
        throw e;
      }
    }
    const { facts } = probe ?? (await checked);
    phases.lap("decode");
    const warnings = damage.warnings();
    if (warnings.length > 0) ctx.log.warn("damaged source: partial extraction", { warnings, images: sink.images.length });
    const images = sink.images;
    const keyframeOfTarget = run.keyframePick?.picker.perTarget;
    const skippedTimestampsSeconds = run.timestamps ? skippedTargets(run.timestamps, images, keyframeOfTarget) : undefined;
    const extractMs = Date.now() - started;
    if (run.keyframePick) ctx.log.info("keyframe accuracy", { keyframes: images.length, ms: extractMs });

    const createdAt = new Date();
    const manifest = Manifest.parse({
      version: 1,
      videoId: job.videoId,
      attempt: job.attempt,
      createdAt: createdAt.toISOString(),
      options: job.options,
      source: facts,
      imageFormat: run.output.format,
      contentType: IMAGE_FORMATS[run.output.format].contentType,
      images,
      ...(skippedTimestampsSeconds ? { skippedTimestampsSeconds } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    } satisfies Manifest);
    const manifestJson = JSON.stringify(manifest, null, 2);
    // The manifest is stored while the archive's upload completes; a manifest without its archive is
    // deleted again, so a failed job leaves neither.
    const [zip, stored] = await Promise.allSettled([
      archive.finish(manifestJson, createdAt),
      storage.put(config.imagesBucket, manifestKey, manifestJson, "application/json", signal),
    ]);
    if (zip.status === "rejected") {
      if (stored.status === "fulfilled") await storage.deleteKeys(config.imagesBucket, [manifestKey], AbortSignal.timeout(30_000)).catch(() => undefined);
      throw storageError("The images archive could not be stored.", zip.reason, signal);
    }
    archive = undefined;
    if (stored.status === "rejected") throw storageError("The images manifest could not be stored.", stored.reason, signal);
    phases.lap("store");
    ctx.log.info("extraction phases", { ...phases.fields(), localCopy: source.localCopy });

    return {
      archiveUri: s3Uri(config.imagesBucket, archiveKey),
      manifestUri: s3Uri(config.imagesBucket, manifestKey),
      imageCount: images.length,
      zipSizeBytes: zip.value,
      source: facts,
      extractMs,
      ...(decision ? { intervalStrategy: decision.strategy } : {}),
      ...(run.keyframePick ? { keyframeAccuracy: true } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } finally {
    if (archive) await archive.abort();
  }
}

/**
 * Decodes the planned images into `sink`: one seek per target, or a sequential pass (two halves at once when
 * long: extractors/split.ts).
 * @throws JobError of the extractor (none for damage `ctx.damage` records, unless no image came out)
 */
async function extractImages(
  ctx: JobContext & { damage: DamageLog },
  run: Awaited<ReturnType<typeof planExtraction>>,
  source: { url: SourceInput; streamIndex: number },
  facts: SourceFacts,
  sink: ImageSink,
): Promise<void> {
  if (run.seekTargets) {
    await extractBySeeking(ctx, source, run.seekTargets, run.output, run.span, sink);
    return;
  }
  const splitSeconds = segmentSplitPoint(
    run.sequential,
    run.span,
    { pixels: facts.width * facts.height, frameRate: facts.frameRate },
    seekVerified(facts.videoCodec, facts.formatName),
    os.availableParallelism(),
    ctx.config.segmentSplitMinPixelFrames,
  );
  if (splitSeconds !== null) ctx.log.info("parallel segments", { segments: 2, splitSeconds });
  await extractSequentially(ctx, source, run, sink, splitSeconds);
}

/**
 * Wall time of a job's phases, milliseconds, logged as `extraction phases` with the job id: `inputChecks`
 * (presign, the local copy's download, the source HEAD and output HEADs when made), `probe` (ffprobe and its checks; beside the decode for keyframes
 * and scene), `plan` (until the decode starts: the probe when it is awaited, the packet index), `decode`
 * (ffmpeg decode and image encode, ZIP writing and part uploads), `store` (last ZIP bytes and manifest).
 */
class PhaseTimer {
  private last = performance.now();
  private readonly ms: Record<string, number> = {};
  /** Ends the phase running since the previous lap under `name`. */
  lap(name: string): void {
    const now = performance.now();
    this.ms[name] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
  }
  /** Records a phase that ran beside the others (not a lap), `ms` milliseconds long. */
  record(name: string, ms: number): void {
    this.ms[name] = Math.round(ms * 10) / 10;
  }
  /** The `extraction phases` log fields. */
  fields(): { phasesMs: Record<string, number> } {
    return { phasesMs: { ...this.ms } };
  }
}

/**
 * @returns true when the archive or the manifest of the job's attempt exists
 * @throws the storage error of a failed HEAD (other than 404)
 */
export async function extractionOutputStored(job: ExtractionJob, storage: Storage, bucket: string, signal: AbortSignal): Promise<boolean> {
  // Both HEADs at once: one round trip before every job.
  const found = await Promise.all(
    [archiveObjectKey(job.userId, job.videoId, job.attempt), manifestObjectKey(job.userId, job.videoId, job.attempt)].map((key) =>
      storage.objectSize(bucket, key, signal).then(
        () => true,
        (e: unknown) => {
          if (isNotFound(e)) return false;
          throw e;
        },
      ),
    ),
  );
  return found.includes(true);
}

/**
 * @throws JobError "already stored" when `key` exists, a storage error when the HEAD fails otherwise
 */
async function refuseExisting(storage: Storage, bucket: string, key: string, signal: AbortSignal): Promise<void> {
  try {
    await storage.objectSize(bucket, key, signal);
  } catch (e) {
    signal.throwIfAborted();
    if (isNotFound(e)) return;
    throw storageError("The images storage could not be checked.", e, signal);
  }
  throw new JobError(
    "The images of this attempt are already stored; they are never replaced.",
    `${key.split("/").pop()} of this attempt already exists in the images bucket: the job was sent again after it finished.`,
  );
}
