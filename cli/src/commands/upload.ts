/**
 * `vidsnap upload <file> [--every 10s | --keyframes] [--wait]`: creates the video, uploads the file
 * (single presigned PUT or multipart, chosen by the API; client/src/upload.ts) with a byte progress bar,
 * completes it; with `--wait`, follows the extraction to its end.
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { ExtractionOptions, Video } from "../../../client/src/index.ts";
import { uploadVideoFile } from "../../../client/src/upload.ts";
import type { Command, ParsedValues } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, requireToken, say, shortStatus, usageError, type CliContext } from "../context.ts";
import { createProgressBar } from "../progress.ts";
import { describeVideo, outcomeExitCode, waitWithProgress } from "./status.ts";

/**
 * Parses a duration: `10`, `10s`, `1.5s`, `500ms`, `2m` (seconds unless a unit is given).
 * @param flag the option's name, for the error message
 * @returns seconds (> 0, or ≥ 0 with `allowZero`)
 * @throws CliError (exit 2) on anything else
 */
export function parseDuration(text: string, flag = "--every", allowZero = false): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min)?\s*$/i.exec(text);
  if (!m) throw usageError(`${flag} takes a duration like 10s, 1.5s, 500ms or 2m, not "${text}"`);
  const value = Number.parseFloat(m[1]!);
  const unit = (m[2] ?? "s").toLowerCase();
  const seconds = unit === "ms" ? value / 1000 : unit === "m" || unit === "min" ? value * 60 : value;
  if (allowZero ? seconds < 0 : !(seconds > 0)) throw usageError(`${flag} must be ${allowZero ? "0 or more" : "greater than 0"}`);
  return seconds;
}

/** `--every` value → seconds between two images. @throws CliError (exit 2) */
export const parseInterval = (text: string): number => parseDuration(text, "--every");

/** A whole number flag. @throws CliError (exit 2) */
function parseInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n)) throw usageError(`${flag} takes a whole number, not "${text}"`);
  return n;
}

/**
 * Builds the extraction options of `vidsnap upload` from its flags; ranges are checked by the API
 * (a 400 names the field, exit 2).
 * @returns undefined when no option flag is given (the API's default: keyframes)
 * @throws CliError (exit 2) on conflicting or malformed flags
 */
export function extractionOptionsFromFlags(values: ParsedValues): ExtractionOptions | undefined {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const modes = [str("every") !== undefined, values.keyframes === true, values.scenes === true, str("at") !== undefined].filter(Boolean);
  if (modes.length > 1) throw usageError("--every, --keyframes, --scenes and --at exclude each other");
  const format = str("format");
  if (format !== undefined && !["jpeg", "png", "webp"].includes(format)) throw usageError("--format is jpeg, png or webp");
  const accuracy = str("accuracy");
  if (accuracy !== undefined && !["exact", "keyframe"].includes(accuracy)) throw usageError("--accuracy is exact or keyframe");
  if (accuracy !== undefined && str("every") === undefined && str("at") === undefined) throw usageError("--accuracy goes with --every or --at");
  if (str("threshold") !== undefined && !values.scenes) throw usageError("--threshold goes with --scenes");
  const common = {
    ...(format !== undefined ? { format: format as "jpeg" | "png" | "webp" } : {}),
    ...(str("quality") !== undefined ? { quality: parseInteger(str("quality")!, "--quality") } : {}),
    ...(str("max-width") !== undefined ? { maxWidth: parseInteger(str("max-width")!, "--max-width") } : {}),
    ...(str("max-height") !== undefined ? { maxHeight: parseInteger(str("max-height")!, "--max-height") } : {}),
    ...(str("max-images") !== undefined ? { maxImages: parseInteger(str("max-images")!, "--max-images") } : {}),
    ...(str("start") !== undefined ? { startSeconds: parseDuration(str("start")!, "--start", true) } : {}),
    ...(str("end") !== undefined ? { endSeconds: parseDuration(str("end")!, "--end") } : {}),
  };
  const exact = accuracy !== undefined ? { accuracy: accuracy as "exact" | "keyframe" } : {};
  if (str("every") !== undefined) return { mode: "interval", intervalSeconds: parseInterval(str("every")!), ...exact, ...common };
  if (str("at") !== undefined) {
    const times = str("at")!.split(",").filter((t) => t.trim() !== "").map((t) => parseDuration(t, "--at", true));
    if (times.length === 0) throw usageError("--at takes a comma-separated list of times, e.g. 0,5s,1m");
    return { mode: "timestamps", timestampsSeconds: times, ...exact, ...common };
  }
  if (values.scenes) {
    const threshold = str("threshold");
    let sceneThreshold: number | undefined;
    if (threshold !== undefined) {
      sceneThreshold = Number(threshold);
      if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(threshold) || sceneThreshold > 1) throw usageError("--threshold takes a number from 0 to 1");
    }
    return { mode: "scene", ...(sceneThreshold !== undefined ? { sceneThreshold } : {}), ...common };
  }
  if (values.keyframes || Object.keys(common).length > 0) return { mode: "keyframes", ...common };
  return undefined;
}

export interface UploadInput {
  /** Local file (absolute, or relative to the context's cwd). */
  file: string;
  options?: ExtractionOptions;
  contentType?: string;
  /** Follow the extraction until it ends. */
  wait?: boolean;
}

export interface UploadResult {
  /** The video after `/complete`, or after the extraction ended with `wait`. */
  video: Video;
  uploadedBytes: number;
  uploadSeconds: number;
}

/**
 * Uploads a file with progress bars on stderr (not with `--json`).
 * @throws CliError (2: file missing, 3: not signed in), UploadError / VidsnapApiError from the API, network errors
 */
export async function upload(ctx: CliContext, input: UploadInput): Promise<UploadResult> {
  const token = requireToken(ctx);
  const file = path.resolve(ctx.io.cwd, input.file);
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error("not a file");
    size = stat.size;
  } catch {
    throw usageError(`cannot read ${file}`);
  }
  const bar = createProgressBar(ctx, "upload");
  const started = Date.now();
  let video = await uploadVideoFile({
    baseUrl: ctx.apiUrl,
    token,
    filePath: file,
    ...(input.contentType ? { contentType: input.contentType } : {}),
    ...(input.options ? { options: input.options } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    fetch: ctx.fetch,
    onProgress: (p) => bar.update(p.totalBytes ? p.uploadedBytes / p.totalBytes : 1, `${formatBytes(p.uploadedBytes)} / ${formatBytes(p.totalBytes)}`),
  });
  const uploadSeconds = (Date.now() - started) / 1000;
  bar.done(`${formatBytes(size)} in ${uploadSeconds.toFixed(1)} s`);
  if (input.wait) video = await waitWithProgress(ctx, apiClient(ctx), video.id);
  return { video, uploadedBytes: size, uploadSeconds };
}

export const uploadCommand: Command = {
  name: "upload",
  summary: "upload a video and start the extraction (--wait: until done)",
  help: `Usage: vidsnap upload <file> [--keyframes | --every DURATION | --scenes | --at TIMES] [options] [--wait]

Creates the video, uploads the file (large files in parallel parts, resumable), and queues the
extraction. Prints the video id (with --json: {"video": …}).

What to extract (one of):
  --keyframes          one image per keyframe (the default)
  --every DURATION     one image every DURATION: 10, 10s, 1.5s, 500ms, 2m (0.1 s to 1 h)
  --scenes             the first frame and one image per scene change
      --threshold T    scene-change score 0..1 above which an image is taken (default 0.3; lower = more)
  --at TIMES           one image at each time: 0,5s,90,2m (comma-separated, up to 1000)
      --accuracy A     with --every / --at: exact (default) or keyframe (nearest keyframe, much faster)

How (all optional):
  --format F           jpeg (default), png or webp
  --quality Q          1..100 (jpeg, webp)
  --max-width PX, --max-height PX   scale down to fit, keeping the aspect ratio
  --max-images N       stop after N images
  --start DURATION, --end DURATION  only this part of the video

Other options:
  --content-type TYPE  MIME type of the file (default: from its extension)
  --wait               follow the extraction until it ends (progress bar on stderr); exit code 0
                       when it succeeded, 1 when it failed

Examples:
  vidsnap upload talk.mp4 --every 10s --wait
  vidsnap upload clip.webm --scenes --format webp --max-width 640
  id=$(vidsnap upload clip.webm --json | jq -r .video.id)`,
  options: {
    every: { type: "string" },
    keyframes: { type: "boolean" },
    scenes: { type: "boolean" },
    threshold: { type: "string" },
    at: { type: "string" },
    accuracy: { type: "string" },
    format: { type: "string" },
    quality: { type: "string" },
    "max-width": { type: "string" },
    "max-height": { type: "string" },
    "max-images": { type: "string" },
    start: { type: "string" },
    end: { type: "string" },
    "content-type": { type: "string" },
    wait: { type: "boolean" },
  },
  positionals: { min: 1, max: 1, names: "<file>" },
  async run(ctx, values, [file]) {
    if (!file) throw usageError("missing <file>");
    const options = extractionOptionsFromFlags(values);
    const result = await upload(ctx, {
      file,
      ...(options ? { options } : {}),
      ...(typeof values["content-type"] === "string" ? { contentType: values["content-type"] } : {}),
      wait: values.wait === true,
    });
    const { video } = result;
    if (ctx.json) printJson(ctx, { video });
    else if (values.wait) say(ctx, describeVideo(video));
    else say(ctx, `video ${video.id}: ${shortStatus(video.status)} (vidsnap status ${video.id} --wait)`);
    return values.wait ? outcomeExitCode(video) : EXIT.ok;
  },
};
