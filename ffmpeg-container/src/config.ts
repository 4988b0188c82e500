/**
 * Processor configuration, read from environment variables at the entry (`main.ts`). Tests build a
 * {@link ProcessorConfig} directly and pass it to `createProcessorServer`.
 */
import os from "node:os";
import { z } from "zod";
import { loadConfig } from "../../runtime/config.ts";
import { MIN_SHARED_SECRET_LENGTH } from "../../runtime/job-signature.ts";
import type { IntervalStrategySetting } from "./jobs/extract/plan/strategy.ts";

/** Default resource limits (README "Limits"). */
export const DEFAULT_LIMITS = {
  /** 4 hours. */
  maxDurationSeconds: 14_400,
  /** 36 megapixels: every 8K format fits, with margin; a frame at this size is ~54 MB as YUV 4:2:0. */
  maxPixelsPerFrame: 36_000_000,
  maxImages: 10_000,
} as const;

/** Default `TRANSCODE_TIMEOUT_SECONDS`: 2 hours (issue 14: transcodes of long videos finish in production). */
export const DEFAULT_TRANSCODE_TIMEOUT_SECONDS = 7200;
/**
 * Default `TRANSCODE_MAX_WORK_BYTES`: 8 GiB of outputs per transcode in the work folder (MP4 faststart
 * rewrites a finished local file, so every output is on disk before it is uploaded).
 */
export const DEFAULT_TRANSCODE_MAX_WORK_BYTES = 8 * 1024 ** 3;

/** Default `HEARTBEAT_SECONDS`: far below the edge API's idle timeout (300 s) and processing lease (600 s). */
export const DEFAULT_HEARTBEAT_SECONDS = 30;

/** Default `MAX_CONCURRENT_RENDERS`: 3 (one ffmpeg each; a render is short, a job slot is not taken). */
export const DEFAULT_MAX_CONCURRENT_RENDERS = 3;
/** Default `RENDER_TIMEOUT_SECONDS`: 30 s (a thumbnail takes well under a second; a 10 s GIF a few). */
export const DEFAULT_RENDER_TIMEOUT_SECONDS = 30;

/** Default `SOURCE_CACHE_BYTES`: 1 GiB of the instance's disk (standard-1 has 8 GB) for local copies of sources. */
export const DEFAULT_SOURCE_CACHE_BYTES = 1024 ** 3;
/** Default `SOURCE_CACHE_MAX_FILE_BYTES`: 256 MiB; a larger source is read over its presigned URL only. */
export const DEFAULT_SOURCE_CACHE_MAX_FILE_BYTES = 256 * 1024 ** 2;

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** Environment variables of the processor (names as in ffmpeg-container/README.md). */
export const ProcessorEnv = z.object({
  /** TCP port to listen on; 8080 in the container image. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  /** Interface to bind; 0.0.0.0 in the container image. */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** S3-compatible endpoint, e.g. `https://<account>.r2.cloudflarestorage.com` or the local S3 server. */
  S3_ENDPOINT: z.url(),
  /** SigV4 region; R2 uses `auto`. No storage key: every job brings its own credentials (../s3.ts). */
  S3_REGION: z.string().min(1).default("auto"),
  /** Path-style URLs (`endpoint/bucket/key`) instead of `bucket.endpoint/key`. */
  S3_FORCE_PATH_STYLE: bool.default(true),
  VIDEOS_BUCKET: z.string().min(1),
  IMAGES_BUCKET: z.string().min(1),
  /**
   * Secret shared with the edge-api Worker: every `POST /jobs` must carry its HMAC (runtime/job-signature.ts).
   * Always required (the local stack generates one per run).
   */
  PROCESSOR_SHARED_SECRET: z.string().min(MIN_SHARED_SECRET_LENGTH),
  /** Jobs run at once; more get 503 with Retry-After. */
  MAX_CONCURRENT_JOBS: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * Renders of images on demand (`POST /renders`) run at once, a pool apart from the job slots; more get
   * 503 with Retry-After at once (never a queue).
   */
  MAX_CONCURRENT_RENDERS: z.coerce.number().int().min(1).max(64).default(DEFAULT_MAX_CONCURRENT_RENDERS),
  /** Wall-clock limit of one render, seconds; ffmpeg is killed and the render answers 504 past it. */
  RENDER_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(DEFAULT_RENDER_TIMEOUT_SECONDS),
  /**
   * Longest silence of a running job's NDJSON stream, seconds: a PROCESSING event (the heartbeat; progress
   * travels in PROGRESS events) is sent whenever no line was written for this long. Fractions allowed.
   */
  HEARTBEAT_SECONDS: z.coerce.number().positive().max(3600).default(DEFAULT_HEARTBEAT_SECONDS),
  /** Wall-clock limit of one job, seconds; ffmpeg is killed and the job reports ERROR past it. */
  JOB_TIMEOUT_SECONDS: z.coerce.number().positive().max(7 * 24 * 3600).default(900),
  /** Wall-clock limit of one transcode job, seconds (extraction keeps JOB_TIMEOUT_SECONDS). Default 2 h. */
  TRANSCODE_TIMEOUT_SECONDS: z.coerce.number().positive().max(7 * 24 * 3600).default(DEFAULT_TRANSCODE_TIMEOUT_SECONDS),
  /**
   * Most bytes one transcode may write to its work folder (its estimated outputs), bytes; a larger
   * estimate, or one above the folder's free space, fails the job before encoding. Default 8 GiB.
   */
  TRANSCODE_MAX_WORK_BYTES: z.coerce.number().int().positive().default(DEFAULT_TRANSCODE_MAX_WORK_BYTES),
  /** Longest accepted video, seconds (ffprobe duration, checked before decoding). Default 4 h. */
  MAX_DURATION_SECONDS: z.coerce.number().positive().max(7 * 24 * 3600).default(DEFAULT_LIMITS.maxDurationSeconds),
  /**
   * Largest accepted frame, width × height pixels (ffprobe's declared size, checked before decoding).
   * Default 36 000 000: 8K (7680x4320 = 33.2 MP, DCI 8192x4320 = 35.4 MP) passes, a 30000x30000 header does not.
   */
  MAX_PIXELS_PER_FRAME: z.coerce.number().int().positive().default(DEFAULT_LIMITS.maxPixelsPerFrame),
  /** Most images one job may produce; ffmpeg is stopped when one more arrives. */
  MAX_IMAGES: z.coerce.number().int().positive().max(1_000_000).default(DEFAULT_LIMITS.maxImages),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  /**
   * Disk bytes for local copies of sources (sources/source-cache.ts): a job or render downloads its source
   * once and ffmpeg reads the file; unused copies go after 10 minutes or when room is needed. 0 disables.
   */
  SOURCE_CACHE_BYTES: z.coerce.number().int().min(0).default(DEFAULT_SOURCE_CACHE_BYTES),
  /** Largest source copied, bytes; larger ones are read over their presigned URL (streamed). */
  SOURCE_CACHE_MAX_FILE_BYTES: z.coerce.number().int().min(0).default(DEFAULT_SOURCE_CACHE_MAX_FILE_BYTES),
  /** Parent folder of per-job working folders; default the OS temp folder. */
  TMPDIR: z.string().min(1).optional(),
  /**
   * `local` (the local stack, tests), `staging` or `production`: the URL rules of imports
   * (runtime/outgoing-url.ts) allow http and loopback only when `local`. Default `production` (fail closed).
   */
  ENVIRONMENT: z.string().min(1).default("production"),
});

/** Validated configuration the server runs with. */
export interface ProcessorConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Where the storage is; the credentials come with each job or render (schema/storage-credentials.ts). */
  s3: {
    endpoint: string;
    region: string;
    forcePathStyle: boolean;
  };
  videosBucket: string;
  imagesBucket: string;
  /** `PROCESSOR_SHARED_SECRET`: job requests must be signed with it. */
  sharedSecret: string;
  maxConcurrentJobs: number;
  /** Renders at once (`MAX_CONCURRENT_RENDERS`); unset = {@link DEFAULT_MAX_CONCURRENT_RENDERS}. */
  maxConcurrentRenders?: number | undefined;
  /** Limit of one render, seconds (`RENDER_TIMEOUT_SECONDS`); unset = {@link DEFAULT_RENDER_TIMEOUT_SECONDS}. */
  renderTimeoutSeconds?: number | undefined;
  /** Seconds (fractions allowed): the limit of extraction jobs (`JOB_TIMEOUT_SECONDS`). */
  jobTimeoutSeconds: number;
  /** Limit of transcode jobs, seconds (`TRANSCODE_TIMEOUT_SECONDS`); unset = {@link DEFAULT_TRANSCODE_TIMEOUT_SECONDS}. */
  transcodeTimeoutSeconds?: number | undefined;
  /** Most bytes of outputs per transcode (`TRANSCODE_MAX_WORK_BYTES`); unset = {@link DEFAULT_TRANSCODE_MAX_WORK_BYTES}. */
  transcodeMaxWorkBytes?: number | undefined;
  /** Longest accepted video, seconds (`MAX_DURATION_SECONDS`). */
  maxDurationSeconds: number;
  /** Largest accepted frame, width × height (`MAX_PIXELS_PER_FRAME`). */
  maxPixelsPerFrame: number;
  /** Most images per job (`MAX_IMAGES`). */
  maxImages: number;
  /** Explicit binaries; unset = resolved by ffmpeg/binaries.ts. */
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  /** Folder for per-job working folders (each removed when its job ends). */
  tmpDir: string;
  /** `SOURCE_CACHE_BYTES` / `SOURCE_CACHE_MAX_FILE_BYTES`; unset = the defaults above (tests set 0 to read over HTTP). */
  sourceCacheBytes?: number | undefined;
  sourceCacheMaxFileBytes?: number | undefined;
  /** `ENVIRONMENT`: imports follow runtime/outgoing-url.ts for it; unset = `production`. */
  environment?: string | undefined;
  /** Imports: longest wait for a TCP/TLS connection, and longest silence of a body, ms; unset = jobs/import/download.ts defaults. */
  importConnectTimeoutMs?: number | undefined;
  importIdleTimeoutMs?: number | undefined;
  /** Minimum time between two progress events, milliseconds; 2000 by contract (tests may lower it). */
  progressIntervalMs: number;
  /**
   * Heartbeat (`HEARTBEAT_SECONDS`): while a job runs, a PROCESSING event is sent at least this often,
   * seconds; unset = {@link DEFAULT_HEARTBEAT_SECONDS}.
   */
  heartbeatSeconds?: number | undefined;
  /**
   * Interval-mode strategy: `auto` (default, unset) picks from the keyframe index
   * (jobs/extract/plan/strategy.ts); `seek` / `sequential` force one (tests and `npm run bench` only).
   */
  intervalStrategy?: IntervalStrategySetting | undefined;
  /**
   * Least work (pixels × frames) for which a sequential decode runs as two parallel halves;
   * unset = SEGMENT_SPLIT_MIN_PIXEL_FRAMES (jobs/extract/extractors/split.ts). Tests and the bench set 0 (always) or
   * Infinity (never).
   */
  segmentSplitMinPixelFrames?: number | undefined;
}

/**
 * Reads and validates the processor's environment.
 * @param env usually `process.env`; empty strings count as unset
 * @returns the configuration
 * @throws ConfigError listing every invalid or missing variable (never their values)
 */
export function loadProcessorConfig(env: NodeJS.ProcessEnv): ProcessorConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const e = loadConfig(ProcessorEnv, cleaned, { what: "processor configuration" });
  return {
    host: e.HOST,
    port: e.PORT,
    s3: {
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    },
    videosBucket: e.VIDEOS_BUCKET,
    imagesBucket: e.IMAGES_BUCKET,
    sharedSecret: e.PROCESSOR_SHARED_SECRET,
    maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
    maxConcurrentRenders: e.MAX_CONCURRENT_RENDERS,
    renderTimeoutSeconds: e.RENDER_TIMEOUT_SECONDS,
    jobTimeoutSeconds: e.JOB_TIMEOUT_SECONDS,
    transcodeTimeoutSeconds: e.TRANSCODE_TIMEOUT_SECONDS,
    transcodeMaxWorkBytes: e.TRANSCODE_MAX_WORK_BYTES,
    maxDurationSeconds: e.MAX_DURATION_SECONDS,
    maxPixelsPerFrame: e.MAX_PIXELS_PER_FRAME,
    maxImages: e.MAX_IMAGES,
    ffmpegPath: e.FFMPEG_PATH,
    ffprobePath: e.FFPROBE_PATH,
    tmpDir: e.TMPDIR ?? os.tmpdir(),
    sourceCacheBytes: e.SOURCE_CACHE_BYTES,
    sourceCacheMaxFileBytes: e.SOURCE_CACHE_MAX_FILE_BYTES,
    environment: e.ENVIRONMENT,
    progressIntervalMs: 2000,
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
  };
}
