/**
 * Hostile-input defences that run on ffprobe's facts, before any image is stored, and during extraction:
 * resource limits (duration, pixels per frame, image count) and content checks (what an upload that
 * ffprobe refused really is: an image, a playlist, a text file, audio…), each as a {@link JobError} with
 * one human sentence that names the limit or the reason.
 */
import type { SourceFacts } from "../../../schema/manifest.ts";
import { JobError } from "../runner/errors.ts";
import { unreadableVideoMessage } from "./stderr.ts";
import { INPUT_FORMAT_WHITELIST } from "./input-args.ts";

/** The limits a job is checked against (from {@link ProcessorConfig}). */
export interface InputLimits {
  maxDurationSeconds: number;
  maxPixelsPerFrame: number;
  maxImages: number;
}

/**
 * `h:mm:ss` for a duration in seconds (rounded down to the second; negative or non-finite → `0:00:00`).
 * @example formatDuration(36000) === "10:00:00"; formatDuration(14400) === "4:00:00"; formatDuration(5.5) === "0:00:05"
 */
export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** `36 megapixels`, `900 megapixels`, `0.25 megapixels`: a pixel count for messages. */
function megapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return `${mp >= 10 ? Math.round(mp) : Math.round(mp * 100) / 100} megapixels`;
}

/** The duration-limit error (before decoding, or when a decoded timestamp passes the limit). */
export function durationLimitError(durationSeconds: number, limitSeconds: number, when: "probe" | "decode"): JobError {
  const said = when === "probe" ? `is ${formatDuration(durationSeconds)} long` : `runs past ${formatDuration(durationSeconds)}`;
  return new JobError(
    `The video ${said}; the limit is ${formatDuration(limitSeconds)}.`,
    `MAX_DURATION_SECONDS=${limitSeconds}; ${when === "probe" ? `ffprobe reports a duration of ${durationSeconds} s, no image was stored` : `a decoded frame is at ${durationSeconds} s, ffmpeg was stopped`}.`,
  );
}

/**
 * Checks ffprobe's facts against the limits before any image is stored (a keyframes or scene decode may
 * already run beside the probe, its images held back until this passes: jobs/extract/job.ts).
 * @param facts source facts from ffprobe (declared duration and frame size)
 * @throws JobError naming the limit and the value: `The video is 10:00:00 long; the limit is 4:00:00.` or
 *   `The video's frames are 30000x30000 pixels (900 megapixels); the limit is 36 megapixels per frame.`
 */
export function checkProbeLimits(facts: SourceFacts, limits: InputLimits): void {
  const pixels = facts.width * facts.height;
  if (pixels > limits.maxPixelsPerFrame) {
    throw new JobError(
      `The video's frames are ${facts.width}x${facts.height} pixels (${megapixels(pixels)}); the limit is ${megapixels(limits.maxPixelsPerFrame)} per frame.`,
      `MAX_PIXELS_PER_FRAME=${limits.maxPixelsPerFrame}; ffprobe reports ${facts.width}x${facts.height} (${pixels} pixels) for the ${facts.videoCodec} stream, no image was stored.`,
    );
  }
  if (facts.durationSeconds !== null && facts.durationSeconds > limits.maxDurationSeconds) {
    throw durationLimitError(facts.durationSeconds, limits.maxDurationSeconds, "probe");
  }
}

/** The image-count error: raised when image `limit + 1` arrives (or is planned), ffmpeg is then stopped. */
export function imageLimitError(limit: number, planned?: number): JobError {
  return new JobError(
    `The video gives more than ${limit} images; the limit is ${limit} images per job. Choose a longer interval.`,
    planned !== undefined
      ? `MAX_IMAGES=${limit}; the interval plan has ${planned} images, nothing was decoded.`
      : `MAX_IMAGES=${limit}; ffmpeg was stopped when image ${limit + 1} arrived and the partial archive discarded.`,
  );
}

/** Demuxers of playlists and lists of other files: never opened (they would read further URLs or files). */
const PLAYLIST_DEMUXERS = new Set(["hls", "dash", "concat", "ffconcat", "webm_dash_manifest", "mpd"]);

/** Still-image demuxer → the name used in messages. */
const IMAGE_DEMUXERS: Record<string, string> = {
  png_pipe: "PNG",
  apng: "PNG",
  jpeg_pipe: "JPEG",
  jpegls_pipe: "JPEG",
  jpegxl_pipe: "JPEG XL",
  gif: "GIF",
  gif_pipe: "GIF",
  webp_pipe: "WebP",
  bmp_pipe: "BMP",
  tiff_pipe: "TIFF",
  svg_pipe: "SVG",
  j2k_pipe: "JPEG 2000",
  image2: "image",
};

/** Audio-only containers. */
const AUDIO_DEMUXERS = new Set(["mp3", "wav", "w64", "flac", "aac", "aiff", "amr", "ape", "au", "wv", "tta", "opus", "caf"]);

/** Human sentence for "this is a still image". */
function imageMessage(kind: string): string {
  return kind === "image" ? "The file is an image, not a video." : `The file is a ${kind} image, not a video.`;
}

const PLAYLIST_MESSAGE = "Playlists (HLS/DASH/concat) are not accepted.";

/**
 * What the first bytes of a file are, from their magic numbers and text shape; null when they look
 * like binary data of no known non-video kind.
 */
export function sniffContent(head: Uint8Array): { kind: "image"; name: string } | { kind: "playlist" | "text" | "empty" } | null {
  if (head.length === 0) return { kind: "empty" };
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const starts = (...bytes: number[]) => bytes.every((v, i) => b[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return { kind: "image", name: "PNG" };
  if (starts(0xff, 0xd8, 0xff)) return { kind: "image", name: "JPEG" };
  if (b.subarray(0, 4).toString("latin1") === "GIF8") return { kind: "image", name: "GIF" };
  if (b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP") return { kind: "image", name: "WebP" };
  // "BM" then a BITMAPINFOHEADER (size 40) at offset 14.
  if (starts(0x42, 0x4d) && b.length >= 18 && b.readUInt32LE(14) === 40) return { kind: "image", name: "BMP" };
  // Text: no NUL and almost only printable ASCII / UTF-8 / whitespace.
  const sample = b.subarray(0, 4096);
  const text = sample.toString("utf8").replace(/^\uFEFF/, "");
  const trimmed = text.trimStart();
  if (/^#EXTM3U/.test(trimmed) || /^ffconcat version/i.test(trimmed) || /^<\?xml[\s\S]*<MPD[\s>]/i.test(trimmed) || /^<MPD[\s>]/i.test(trimmed)) {
    return { kind: "playlist" };
  }
  if (!sample.includes(0)) {
    let odd = 0;
    for (const c of sample) if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) odd++;
    if (odd === 0 || odd / sample.length < 0.01) {
      if (/^file\s+['"]?[^\n]*$/m.test(text) && /^(?:file|duration|inpoint|outpoint)\s/m.test(trimmed)) return { kind: "playlist" };
      return { kind: "text" };
    }
  }
  return null;
}

/**
 * The error for an upload ffprobe refused, with the reason a person understands.
 * Rule, first match wins: the demuxer ffmpeg detected but the format whitelist refused (ffprobe logs
 * `[hls @ …] Format not on whitelist`) → playlist, image or audio; then the file's first bytes
 * ({@link sniffContent}) → empty, image, playlist or text; otherwise {@link unreadableVideoMessage}.
 * @param stderr ffprobe's raw stderr (only the demuxer name is read from it; the description is built by the caller)
 * @param head the first bytes of the upload, when they could be read
 * @param description redacted detail for the ERROR event
 */
export function rejectedInputError(stderr: string, head: Uint8Array | null, description: string): JobError {
  const refused = /\[([A-Za-z0-9_,]+) @ [^\]]*\] Format not on whitelist/.exec(stderr)?.[1];
  if (refused) {
    const names = refused.split(",");
    if (names.some((n) => PLAYLIST_DEMUXERS.has(n))) return new JobError(PLAYLIST_MESSAGE, description);
    const image = names.map((n) => IMAGE_DEMUXERS[n] ?? (n.endsWith("_pipe") ? "image" : undefined)).find(Boolean);
    if (image) return new JobError(imageMessage(image), description);
    if (names.some((n) => AUDIO_DEMUXERS.has(n))) return new JobError("The file is audio only, not a video.", description);
  }
  const sniffed = head ? sniffContent(head) : null;
  if (sniffed?.kind === "empty") return new JobError("The file is empty (0 bytes), not a video.", description);
  if (sniffed?.kind === "image") return new JobError(imageMessage(sniffed.name), description);
  if (sniffed?.kind === "playlist") return new JobError(PLAYLIST_MESSAGE, description);
  if (sniffed?.kind === "text") return new JobError("The file is a text file (a script, list or document), not a video.", description);
  if (refused) {
    return new JobError(`The file is not a readable video: its container (${refused}) is not an accepted video format.`, description);
  }
  return new JobError(unreadableVideoMessage(stderr), description);
}

/**
 * Defence in depth after a successful probe: the container ffprobe used must be one of the
 * whitelisted demuxers (the `-format_whitelist` already guarantees it for URL inputs).
 * @throws JobError when it is not
 */
export function checkContainer(formatName: string): void {
  const allowed = new Set(INPUT_FORMAT_WHITELIST.split(","));
  if (!formatName.split(",").some((n) => allowed.has(n))) {
    throw new JobError(
      `The file is not a readable video: its container (${formatName}) is not an accepted video format.`,
      `accepted demuxers: ${INPUT_FORMAT_WHITELIST}`,
    );
  }
}
