/**
 * `vidsnap import <url> [--every 10s | --keyframes] [--wait]`: creates a video imported by URL
 * (`POST /v1/videos` with `source: {url}`: the processor downloads it, then the extraction runs as after an
 * upload); the extraction flags and `--transcode` are those of `vidsnap upload`; with `--wait`, follows the
 * import and the extraction (and the transcode) to their end.
 */
import { unwrap, type ExtractionOptions, type Transcode, type TranscodeRequest, type Video } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, shortStatus, usageError, type CliContext } from "../context.ts";
import { describeVideo, outcomeExitCode, waitWithProgress } from "./status.ts";
import { describeTranscode, transcodeExitCode, transcodeRequestFromSpecs, waitTranscodeWithProgress } from "./transcode.ts";
import { extractionOptionsFromFlags, UPLOAD_OPTION_FLAGS } from "./upload.ts";

export interface ImportInput {
  /** The video's URL (https; http too against a local stack). */
  url: string;
  /** Name shown for the video (default: the URL's last path segment). */
  filename?: string;
  options?: ExtractionOptions;
  transcode?: TranscodeRequest;
  /** Follow the import and the extraction until they end. */
  wait?: boolean;
}

export interface ImportResult {
  /** The video as created (VIDEO_IMPORT_QUEUED), or as ended with `wait`. */
  video: Video;
  transcode?: Transcode;
}

/**
 * @throws VidsnapApiError (400 `validation` naming `source.url` for a refused URL, 401, 429), network errors
 */
export async function importVideo(ctx: CliContext, input: ImportInput): Promise<ImportResult> {
  const api = apiClient(ctx);
  const created = unwrap(
    await api.POST("/v1/videos", {
      body: {
        source: { url: input.url },
        ...(input.filename ? { filename: input.filename } : {}),
        ...(input.options ? { options: input.options } : {}),
        ...(input.transcode ? { transcode: input.transcode } : {}),
      },
    }),
  );
  let video = created.video;
  let transcode = created.transcode;
  if (input.wait) {
    video = await waitWithProgress(ctx, api, video.id);
    if (transcode) transcode = await waitTranscodeWithProgress(ctx, api, video.id, transcode.id);
  }
  return { video, ...(transcode ? { transcode } : {}) };
}

export const importCommand: Command = {
  name: "import",
  summary: "import a video from a URL and start the extraction (--wait: until done)",
  help: `Usage: vidsnap import <url> [--keyframes | --every DURATION | --scenes | --at TIMES] [options] [--wait]

Creates a video that vidsnap downloads from <url> (https; the URL, every address of its host and every
redirect must be public), then extracts like an upload. Prints the video id (with --json: {"video": …}).
A refused URL is a usage error (exit 2); a URL that fails to download (404, an HTML page, too large…)
ends the video in "import error" (with --wait: exit 1; vidsnap retry <id> imports again).

Options: the extraction options and --transcode of vidsnap upload (vidsnap upload --help), and
  --filename NAME      name shown for the video (default: the URL's last path segment)
  --wait               follow the import and the extraction (and the transcode) until they end

Examples:
  vidsnap import https://example.com/talk.mp4 --every 10s --wait
  vidsnap import https://example.com/clip.webm --transcode hls:720,480`,
  options: {
    ...UPLOAD_OPTION_FLAGS,
    filename: { type: "string" },
    transcode: { type: "string", multiple: true },
    wait: { type: "boolean" },
  },
  positionals: { min: 1, max: 1, names: "<url>" },
  async run(ctx, values, [url]) {
    if (!url) throw usageError("missing <url>");
    const options = extractionOptionsFromFlags(values);
    const transcodeRequest = transcodeRequestFromSpecs(Array.isArray(values.transcode) ? values.transcode.filter((v): v is string => typeof v === "string") : []);
    const { video, transcode } = await importVideo(ctx, {
      url,
      ...(typeof values.filename === "string" ? { filename: values.filename } : {}),
      ...(options ? { options } : {}),
      ...(transcodeRequest ? { transcode: transcodeRequest } : {}),
      wait: values.wait === true,
    });
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
