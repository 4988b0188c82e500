/**
 * What a transcode makes, decided from the request and the probed source before anything is encoded
 * (pure, no I/O): each output's stable name, displayed size, audio, encoder choice and file, the trim,
 * and the disk estimate. The rules come from schema/transcode-options.ts: heights from RENDITION_HEIGHTS,
 * width from the displayed aspect ratio (rotation and pixel aspect applied) rounded to an even number, a
 * height above the source's refused unless `upscale: true` (then made at the source's height): vidsnap
 * never upscales.
 */
import {
  DEFAULT_HLS_HEIGHTS,
  renditionName,
  type Rendition,
  type TranscodeQuality,
  type TranscodeRequest,
} from "../../../../schema/transcode-options.ts";
import { JobError } from "../../runner/errors.ts";

/** Height of an mp4/webm rendition that names none: the source's, at most this, pixels. */
export const DEFAULT_MAX_HEIGHT = 1080;
/** HLS segment duration when the rendition names none, seconds (issue 14: "about 6 s"). */
export const DEFAULT_SEGMENT_SECONDS = 6;
/** Folder of the HLS files under the work folder and the attempt prefix (schema/object-keys.ts). */
export const HLS_DIR = "hls";
/** The master playlist's path under the work folder and the attempt prefix. */
export const HLS_MASTER_FILE = `${HLS_DIR}/master.m3u8`;

/** The facts of the source a plan needs (from ffprobe, see ffmpeg/probe.ts). */
export interface TranscodeSource {
  /** Coded frame size, pixels. */
  width: number;
  height: number;
  /** Width / height of one pixel (1 = square). */
  sampleAspectRatio: number;
  /** Clockwise rotation players apply, degrees (ffmpeg applies it when decoding). */
  rotationDegrees: number;
  /** Frames per second, null when unknown. */
  frameRate: number | null;
  /** Seconds, null when unknown. */
  durationSeconds: number | null;
  hasAudio: boolean;
}

/** One file (or, for HLS, one variant's media playlist and segments) that the single ffmpeg run writes. */
export interface PlannedOutput {
  /** Stable name (`mp4-720`, `webm`, `hls-480`), see `renditionName`. */
  rendition: string;
  format: Rendition["format"];
  /** Displayed output size, pixels, both even. */
  width: number;
  height: number;
  /** An audio track is encoded (asked, and the source has one). */
  audio: boolean;
  quality: TranscodeQuality;
  /** Target average video bitrate, kbit/s; undefined = constant quality (`quality`). */
  videoBitrateKbps: number | undefined;
  /** Path relative to the work folder, which is also the key relative to the attempt prefix. */
  file: string;
  /** HLS variants only. */
  hls?: { segmentSeconds: number; segmentFormat: "fmp4" | "ts" };
}

/** The whole transcode: outputs in request order, the trim, and the HLS master playlist when asked. */
export interface TranscodePlan {
  outputs: PlannedOutput[];
  /** Present when an `hls` rendition is asked: its master playlist lists `outputs` of format `hls`. */
  hlsMaster: { rendition: string; file: string } | null;
  /** Trim start, seconds (0 = from the beginning). */
  startSeconds: number;
  /** Seconds of source read from `startSeconds`, null = to the end (end unknown or not trimmed). */
  readSeconds: number | null;
  /** Expected duration of every output, seconds (trim applied), null when the source's is unknown. */
  durationSeconds: number | null;
}

/** Displayed size of the source, pixels (pixel aspect and rotation applied, not rounded). */
export function displaySize(source: TranscodeSource): { width: number; height: number } {
  const width = source.width * (source.sampleAspectRatio > 0 ? source.sampleAspectRatio : 1);
  const turned = source.rotationDegrees % 180 === 90;
  return turned ? { width: source.height, height: width } : { width, height: source.height };
}

/** Largest even number ≤ n, at least 2. */
const evenFloor = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/**
 * Output width for a height, following the displayed aspect ratio, rounded to the nearest even number
 * (4:2:0 chroma needs even sizes). @param height pixels; @param display the source's displayed size
 */
export function outputWidth(height: number, display: { width: number; height: number }): number {
  return Math.max(2, Math.round((height * display.width) / display.height / 2) * 2);
}

/**
 * Plans a transcode.
 * @param request the validated TranscodeRequest
 * @param source probed facts
 * @returns the plan (outputs in request order; an HLS rendition gives one output per variant)
 * @throws JobError before anything is encoded: a height above the source's without `upscale` (naming
 *   the rendition, the asked and the source height), a trim starting at or past the end, two renditions
 *   with the same name
 */
export function planTranscode(request: TranscodeRequest, source: TranscodeSource): TranscodePlan {
  const display = displaySize(source);
  const sourceHeight = evenFloor(display.height);
  const fits = (asked: number, name: string): number => {
    if (asked <= display.height) return asked;
    if (request.upscale) return sourceHeight;
    throw new JobError(
      `Rendition ${name} asks for ${asked} pixels high, but the video is only ${Math.round(display.height)} pixels high; vidsnap never upscales. Ask for a height of at most ${Math.round(display.height)}, or set upscale: true to make it at the source's height.`,
      `source ${source.width}x${source.height}, rotation ${source.rotationDegrees}°, displayed ${Math.round(display.width)}x${Math.round(display.height)}; nothing was encoded.`,
    );
  };
  const outputs: PlannedOutput[] = [];
  let hlsMaster: TranscodePlan["hlsMaster"] = null;
  for (const r of request.renditions) {
    const encoder = { quality: r.quality ?? "medium", videoBitrateKbps: r.videoBitrateKbps } as const;
    const audio = r.audio !== false && source.hasAudio;
    if (r.format === "hls") {
      const asked = r.heights ?? DEFAULT_HLS_HEIGHTS.filter((h) => h <= display.height);
      // A source below the lowest rung still gets one variant, at its own height.
      const heights = asked.length > 0 ? asked.map((h) => fits(h, renditionName("hls", h))) : [Math.min(sourceHeight, DEFAULT_MAX_HEIGHT)];
      // Upscale requests collapse to the source's height: one variant per distinct height.
      for (const height of [...new Set(heights)]) {
        outputs.push({
          rendition: renditionName("hls", height),
          format: "hls",
          width: outputWidth(height, display),
          height,
          audio,
          ...encoder,
          file: `${HLS_DIR}/${height}/index.m3u8`,
          hls: { segmentSeconds: r.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS, segmentFormat: r.segmentFormat ?? "fmp4" },
        });
      }
      hlsMaster = { rendition: renditionName("hls"), file: HLS_MASTER_FILE };
    } else {
      const rendition = renditionName(r.format, r.height);
      const height = r.height !== undefined ? fits(r.height, rendition) : Math.min(sourceHeight, DEFAULT_MAX_HEIGHT);
      outputs.push({ rendition, format: r.format, width: outputWidth(height, display), height, audio, ...encoder, file: `${rendition}.${r.format}` });
    }
  }
  const names = outputs.map((o) => o.rendition);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) {
    throw new JobError(
      `Two renditions are both named ${twice} (same format and height); ask for each format and height once.`,
      `renditions: ${names.join(", ")}; nothing was encoded.`,
    );
  }

  const startSeconds = request.startSeconds ?? 0;
  const total = source.durationSeconds;
  if (total !== null && startSeconds >= total) {
    throw new JobError(
      `startSeconds (${startSeconds}) is at or past the end of the video (${Math.round(total * 1000) / 1000} s).`,
      "nothing was encoded.",
    );
  }
  const end = request.endSeconds !== undefined ? (total !== null ? Math.min(request.endSeconds, total) : request.endSeconds) : total;
  const readSeconds = request.endSeconds !== undefined ? end! - startSeconds : null;
  return {
    outputs,
    hlsMaster,
    startSeconds,
    readSeconds,
    durationSeconds: end !== null ? end - startSeconds : null,
  };
}

/** Assumed frame rate when ffprobe does not know it, frames per second. */
const FALLBACK_FPS = 30;
/**
 * Bits per pixel per frame the outputs reach at each quality (x264 `veryfast` at the CRFs of
 * ./ffmpeg-args.ts on camera footage; VP9 realtime is about the same): an upper-side estimate used only
 * to bound the disk, not a rate target.
 */
const BITS_PER_PIXEL: Record<TranscodeQuality, number> = { low: 0.06, medium: 0.1, high: 0.18 };
/** Audio bitrate assumed per output, kbit/s (128 kbit/s AAC is the larger of the two audio encoders). */
const AUDIO_KBPS = 128;
/** Margin over the estimate: bitrate peaks, container overhead, HLS playlists. */
export const DISK_ESTIMATE_MARGIN = 1.5;

/**
 * Estimated bytes of one output: (video kbit/s + audio kbit/s) × duration × {@link DISK_ESTIMATE_MARGIN}.
 * Video kbit/s is `videoBitrateKbps` when given, else width × height × fps × bits per pixel of the quality.
 * @param durationSeconds the output's duration
 * @param frameRate the source's, null = 30
 */
export function estimateOutputBytes(output: PlannedOutput, durationSeconds: number, frameRate: number | null): number {
  const fps = frameRate && frameRate > 0 ? Math.min(frameRate, 120) : FALLBACK_FPS;
  const videoKbps = output.videoBitrateKbps ?? (output.width * output.height * fps * BITS_PER_PIXEL[output.quality]) / 1000;
  const kbps = videoKbps + (output.audio ? AUDIO_KBPS : 0);
  return Math.ceil(((kbps * 1000) / 8) * durationSeconds * DISK_ESTIMATE_MARGIN);
}

/**
 * Checks the plan's estimated bytes against the disk before encoding.
 * @param freeBytes free space of the work folder's file system (`fs.statfs`: bavail × bsize)
 * @param maxBytes `TRANSCODE_MAX_WORK_BYTES`
 * @returns the estimate, bytes (0 when the duration is unknown: ffmpeg then stops on a full disk)
 * @throws JobError naming the estimate and the bound it exceeds
 */
export function checkDiskEstimate(plan: TranscodePlan, frameRate: number | null, freeBytes: number, maxBytes: number): number {
  if (plan.durationSeconds === null) return 0;
  const estimate = plan.outputs.reduce((sum, o) => sum + estimateOutputBytes(o, plan.durationSeconds!, frameRate), 0);
  const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
  if (estimate > maxBytes) {
    throw new JobError(
      `The renditions asked would need about ${gb(estimate)} of disk; the limit is ${gb(maxBytes)} per transcode. Ask for fewer or smaller renditions, or trim the video.`,
      `TRANSCODE_MAX_WORK_BYTES=${maxBytes}; estimate ${estimate} bytes for ${plan.outputs.length} outputs of ${plan.durationSeconds} s; nothing was encoded.`,
    );
  }
  if (estimate > freeBytes) {
    throw new JobError(
      `The renditions asked would need about ${gb(estimate)} of disk, more than the ${gb(freeBytes)} free on the processor; try again later or ask for fewer renditions.`,
      `estimate ${estimate} bytes for ${plan.outputs.length} outputs of ${plan.durationSeconds} s, ${freeBytes} bytes free in the work folder; nothing was encoded.`,
    );
  }
  return estimate;
}
