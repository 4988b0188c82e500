/**
 * `vidsnap upload <file> [--every 10s | --keyframes] [--wait]`: creates the video, uploads the file
 * (single presigned PUT or multipart, chosen by the API; client/src/upload.ts) with a byte progress bar,
 * completes it; with `--transcode`, asks renditions in the same `POST /v1/videos`; with `--wait`, follows the
 * extraction (and the transcode) to its end.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { unwrap, type ExtractionOptions, type Transcode, type TranscodeRequest, type Video } from "../../../client/src/index.ts";
import { uploadVideoFile } from "../../../client/src/upload.ts";
import type { Command, ParsedValues } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, requireToken, say, shortStatus, usageError, type CliContext } from "../context.ts";
import { parseDuration } from "../flags.ts";
import { createProgressBar } from "../progress.ts";
import { describeVideo, outcomeExitCode, waitWithProgress } from "./status.ts";
import { describeTranscode, transcodeExitCode, transcodeRequestFromSpecs, waitTranscodeWithProgress } from "./transcode.ts";

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

/** The extraction option flags read by {@link extractionOptionsFromFlags} (shared with `vidsnap import`). */
export const UPLOAD_OPTION_FLAGS = {
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
} as const;

export interface UploadInput {
  /** Local file (absolute, or relative to the context's cwd). */
  file: string;
  options?: ExtractionOptions;
  /** Renditions to make after the upload (`transcode` of `POST /v1/videos`). */
  transcode?: TranscodeRequest;
  contentType?: string;
  /** Follow the extraction until it ends. */
  wait?: boolean;
}

export interface UploadResult {
  /** The video after `/complete`, or after the extraction ended with `wait`. */
  video: Video;
  /** The transcode asked with `transcode`: as queued, or as ended with `wait`. */
  transcode?: Transcode;
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
    ...(input.transcode ? { transcode: input.transcode } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    fetch: ctx.fetch,
    onProgress: (p) => bar.update(p.totalBytes ? p.uploadedBytes / p.totalBytes : 1, `${formatBytes(p.uploadedBytes)} / ${formatBytes(p.totalBytes)}`),
  });
  const uploadSeconds = (Date.now() - started) / 1000;
  bar.done(`${formatBytes(size)} in ${uploadSeconds.toFixed(1)} s`);
  if (input.wait) video = await waitWithProgress(ctx, apiClient(ctx), video.id);
  let transcode: Transcode | undefined;
  if (input.transcode) {
    // `/complete` answers the video only: the transcode it queued is the video's one and only.
    const api = apiClient(ctx);
    transcode = unwrap(await api.GET("/v1/videos/{id}/transcodes", { params: { path: { id: video.id } } })).data[0];
    if (transcode && input.wait) transcode = await waitTranscodeWithProgress(ctx, api, video.id, transcode.id);
  }
  return { video, ...(transcode ? { transcode } : {}), uploadedBytes: size, uploadSeconds };
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
Renditions (optional, made beside the extraction once the upload is complete):
  --transcode FORMAT[:HEIGHTS]  mp4:720,480, webm:480, hls:720,480 or hls (default ladder); repeatable.
                       Trim, quality and the other transcode options: vidsnap transcode --help

  --content-type TYPE  MIME type of the file (default: from its extension)
  --wait               follow the extraction (and the transcode) until it ends (progress bars on
                       stderr); exit code 0 when all succeeded, 1 when one failed

Examples:
  vidsnap upload talk.mp4 --every 10s --wait
  vidsnap upload clip.webm --scenes --format webp --max-width 640
  vidsnap upload clip.mp4 --transcode mp4:720 --transcode hls:720,480 --wait
  id=$(vidsnap upload clip.webm --json | jq -r .video.id)`,
  options: {
    ...UPLOAD_OPTION_FLAGS,
    "content-type": { type: "string" },
    transcode: { type: "string", multiple: true },
    wait: { type: "boolean" },
  },
  positionals: { min: 1, max: 1, names: "<file>" },
  async run(ctx, values, [file]) {
    if (!file) throw usageError("missing <file>");
    const options = extractionOptionsFromFlags(values);
    const transcodeRequest = transcodeRequestFromSpecs(Array.isArray(values.transcode) ? values.transcode.filter((v): v is string => typeof v === "string") : []);
    const result = await upload(ctx, {
      file,
      ...(options ? { options } : {}),
      ...(transcodeRequest ? { transcode: transcodeRequest } : {}),
      ...(typeof values["content-type"] === "string" ? { contentType: values["content-type"] } : {}),
      wait: values.wait === true,
    });
    const { video, transcode } = result;
    if (ctx.json) printJson(ctx, transcode ? { video, transcode } : { video });
    else if (values.wait) say(ctx, describeVideo(video) + (transcode ? `\n\n${describeTranscode(transcode)}` : ""));
    else {
      say(ctx, `video ${video.id}: ${shortStatus(video.status)} (vidsnap status ${video.id} --wait)`);
      if (transcode) say(ctx, `transcode ${transcode.id}: ${shortStatus(transcode.status)} (vidsnap transcode-status ${video.id} ${transcode.id} --wait)`);
    }
    if (!values.wait) return EXIT.ok;
    const extraction = outcomeExitCode(video);
    return extraction !== EXIT.ok ? extraction : transcode ? transcodeExitCode(transcode) : EXIT.ok;
  },
};
