/**
 * One extraction job: HEAD the source, probe it over a presigned URL, decode the chosen frames with
 * ffmpeg into a JPEG pipe, stream them into a ZIP that is uploaded while it grows, then store the
 * manifest beside it. Nothing of the video is kept in memory or on disk; the job's temp folder (ffmpeg's
 * working folder) is removed whatever happens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Manifest, type ManifestImage, type SourceFacts } from "../../schema/manifest.ts";
import type { ExtractSnapshotMessage } from "../../schema/messages/extract-snapshot.ts";
import {
  archiveObjectKey,
  manifestObjectKey,
  s3Reference,
  sourceObjectKey,
} from "../../schema/object-keys.ts";
import { ArchiveUpload } from "./archive.ts";
import type { ProcessorConfig } from "./config.ts";
import { JobError } from "./errors.ts";
import { buildExtractArgs, imageEntryName } from "./ffmpeg-args.ts";
import type { FfmpegBinaries } from "./ffmpeg-path.ts";
import { ShowinfoParser, stderrTail, unreadableVideoMessage, type ShowinfoFrame } from "./ffmpeg-log.ts";
import { JpegStreamSplitter } from "./jpeg-splitter.ts";
import type { Logger } from "./log.ts";
import { probeSource } from "./probe.ts";
import { startProcess } from "./proc.ts";
import { presignGetUrl } from "./s3.ts";

/** The MSG_EXTRACT_SNAPSHOT payload: videoId, userId, attempt (≥ 1), options. */
export type JobPayload = ExtractSnapshotMessage["payload"];

/** Live progress of a job: share of the duration decoded (0..1) and images produced so far. */
export interface JobProgress {
  fraction: number;
  images: number;
}

/** What a successful job returns (the SUCCESS payload without the job reference). */
export interface JobResult {
  videoSnapshotsUrl: string;
  manifestUrl: string;
  imageCount: number;
  zipSizeBytes: number;
  source: SourceFacts;
  /** Wall time of the ffmpeg extraction alone, milliseconds (logged). */
  extractMs: number;
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

    const { facts, streamIndex } = await probeSource(ctx.bins.ffprobe, url, { cwd: workDir, signal, sizeBytes });
    ctx.log("info", "probed", { jobId, source: facts });

    const archiveKey = archiveObjectKey(payload.userId, payload.videoId, payload.attempt);
    archive = new ArchiveUpload(s3, config.imagesBucket, archiveKey);
    const started = Date.now();
    const images = await extractImages(ctx, url, streamIndex, payload.options, facts, workDir, archive);
    const extractMs = Date.now() - started;

    const createdAt = new Date();
    const manifest = Manifest.parse({
      version: 1,
      videoId: payload.videoId,
      attempt: payload.attempt,
      createdAt: createdAt.toISOString(),
      options: payload.options,
      source: facts,
      imageFormat: "jpeg",
      images,
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
      videoSnapshotsUrl: s3Reference(config.imagesBucket, archiveKey),
      manifestUrl: s3Reference(config.imagesBucket, manifestKey),
      imageCount: images.length,
      zipSizeBytes,
      source: facts,
      extractMs,
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

/** A JobError for an S3 failure (or the abort reason when the job was aborted). */
function storageError(message: string, e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof JobError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new JobError(message, `${err.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err.message ?? String(e)}`.slice(0, 1000));
}

/**
 * Runs ffmpeg and moves every JPEG it writes into the archive as soon as its showinfo line (its
 * timestamp) is known.
 * @returns the manifest entries, in order
 * @throws JobError when ffmpeg fails or produces no image
 */
async function extractImages(
  ctx: JobContext,
  url: string,
  streamIndex: number,
  options: JobPayload["options"],
  facts: SourceFacts,
  workDir: string,
  archive: ArchiveUpload,
): Promise<ManifestImage[]> {
  const { signal } = ctx;
  const args = buildExtractArgs(url, streamIndex, options);
  const { child, exited } = startProcess(ctx.bins.ffmpeg, args, { cwd: workDir, signal });

  // stderr: showinfo frames (queued until their JPEG arrives) and the other lines (kept for errors).
  const parser = new ShowinfoParser();
  const frames: ShowinfoFrame[] = [];
  const otherLines: string[] = [];
  let stderrEnded = false;
  let wake: (() => void) | undefined;
  const keepLine = (line: string) => {
    otherLines.push(line);
    if (otherLines.length > 400) otherLines.splice(0, otherLines.length - 200);
  };
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    frames.push(...parser.push(text, keepLine));
    wake?.();
  });
  child.stderr.once("close", () => {
    frames.push(...parser.end(keepLine));
    stderrEnded = true;
    wake?.();
  });
  /** Frame info of image `i`: showinfo logs a frame before it is encoded, so it is (nearly) always there. */
  const frameInfo = async (i: number): Promise<ShowinfoFrame | undefined> => {
    while (frames.length <= i && !stderrEnded) await new Promise<void>((r) => (wake = r));
    return frames[i];
  };

  const images: ManifestImage[] = [];
  const splitter = new JpegStreamSplitter();
  const mtime = new Date();
  const duration = facts.durationSeconds;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const jpeg of splitter.push(chunk)) {
        const index = images.length;
        const info = await frameInfo(index);
        if (!info) throw new JobError("Image extraction failed.", "ffmpeg wrote an image without its frame information");
        // Microsecond precision in the manifest; the file name is derived from the same value.
        const timestampSeconds = Math.round(Math.max(0, info.timestampSeconds) * 1e6) / 1e6;
        const fileName = imageEntryName(index, timestampSeconds);
        await archive.addFile(fileName, jpeg, mtime).catch((e: unknown) => {
          throw storageError("The images archive could not be stored.", e, signal);
        });
        images.push({
          index,
          fileName,
          timestampSeconds,
          bytes: jpeg.length,
          ...(info.width && info.height ? { width: info.width, height: info.height } : {}),
        });
        ctx.onProgress({
          fraction: duration ? Math.min(1, Math.max(0, timestampSeconds / duration)) : 0,
          images: images.length,
        });
      }
    }
  } catch (e) {
    child.kill("SIGKILL");
    await exited.catch(() => undefined);
    signal.throwIfAborted();
    if (e instanceof JobError) throw e;
    throw new JobError("Image extraction failed.", String((e as Error).message ?? e).slice(0, 1000));
  }
  const { code, signal: killedBy } = await exited;
  signal.throwIfAborted();
  const secrets = [url, workDir, ctx.config.tmpDir];
  if (code !== 0) {
    const tail = stderrTail(otherLines, secrets);
    throw new JobError(
      images.length > 0 ? "Image extraction failed part-way through the video." : unreadableVideoMessage(otherLines.join("\n")),
      tail || `ffmpeg exited with ${killedBy ?? `code ${code}`}`,
    );
  }
  try {
    splitter.end();
  } catch (e) {
    throw new JobError("Image extraction failed.", (e as Error).message);
  }
  if (images.length === 0) {
    throw new JobError("No image could be decoded from the video.", stderrTail(otherLines, secrets) || "ffmpeg produced no frame");
  }
  return images;
}
