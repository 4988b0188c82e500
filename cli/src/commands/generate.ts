/**
 * `vidsnap generate --generator <id> --input '{…}' [--title NAME] [--estimate SECONDS] [--wait]`: asks a
 * registered generator for a video (`POST /v1/generations`, docs/generators.md); the extraction flags and
 * `--transcode` are those of `vidsnap upload`. With `--wait`, follows the generation, the import of its result
 * and the extraction to their end.
 */
import { unwrap, type ExtractionOptions, type Transcode, type TranscodeRequest, type Video } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, shortStatus, usageError, type CliContext } from "../context.ts";
import { describeVideo, outcomeExitCode, waitWithProgress } from "./status.ts";
import { describeTranscode, transcodeExitCode, transcodeRequestFromSpecs, waitTranscodeWithProgress } from "./transcode.ts";
import { extractionOptionsFromFlags, UPLOAD_OPTION_FLAGS } from "./upload.ts";

export interface GenerateInput {
  generator: string;
  /** The JSON object handed to the generator (≤ 64 KB). */
  input: Record<string, unknown>;
  title?: string;
  /** When the generator should be done, seconds from now. */
  estimatedSeconds?: number;
  options?: ExtractionOptions;
  transcode?: TranscodeRequest;
  wait?: boolean;
}

/** @throws VidsnapApiError (400 input too large, 404 unknown generator, 401, 429), network errors */
export async function generateVideo(ctx: CliContext, input: GenerateInput): Promise<{ video: Video; transcode?: Transcode }> {
  const api = apiClient(ctx);
  const created = unwrap(
    await api.POST("/v1/generations", {
      body: {
        generator: input.generator,
        input: input.input,
        ...(input.title ? { title: input.title } : {}),
        ...(input.estimatedSeconds ? { estimatedSeconds: input.estimatedSeconds } : {}),
        ...(input.options ? { extraction: input.options } : {}),
        ...(input.transcode ? { transcode: input.transcode } : {}),
      },
    }),
  );
  let video = created.video;
  let transcode = created.transcode;
  if (input.wait) {
    video = await waitWithProgress(ctx, api, video.id);
    if (transcode && video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") transcode = await waitTranscodeWithProgress(ctx, api, video.id, transcode.id);
  }
  return { video, ...(transcode ? { transcode } : {}) };
}

/** Parses `--input`: a JSON object. @throws CliError (usage) otherwise */
export function parseGenerationInput(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError("--input must be JSON, e.g. '{\"script\": \"Hello\"}'");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw usageError("--input must be a JSON object");
  return value as Record<string, unknown>;
}

export const generateCommand: Command = {
  name: "generate",
  summary: "ask a registered generator for a video (--wait: until its images are extracted)",
  help: `Usage: vidsnap generate --generator ID --input JSON [--title NAME] [--estimate SECONDS] [extraction options] [--wait]

Sends your generator (vidsnap generators add) a signed request with INPUT; when it calls back with the
video's URL, vidsnap imports it and extracts images. Prints the video id (with --json: {"video": …}).
With --wait: exit 0 once the images are extracted, 1 when the generation, import or extraction failed.

Options: the extraction options and --transcode of vidsnap upload (vidsnap upload --help), and
  --generator ID       the generator's id (vidsnap generators ls)
  --input JSON         a JSON object handed to the generator as is (at most 64 KB)
  --title NAME         name shown for the video (default: generation)
  --estimate SECONDS   when the generator should be done (default 900)
  --wait               follow the generation, the import and the extraction until they end

Example:
  vidsnap generate --generator 5b0c… --input '{"script": "Hello", "avatar": "anna"}' --wait`,
  options: {
    ...UPLOAD_OPTION_FLAGS,
    generator: { type: "string" },
    input: { type: "string" },
    title: { type: "string" },
    estimate: { type: "string" },
    transcode: { type: "string", multiple: true },
    wait: { type: "boolean" },
  },
  positionals: { min: 0, max: 0, names: "" },
  async run(ctx, values) {
    if (typeof values.generator !== "string" || !values.generator) throw usageError("missing --generator ID");
    if (typeof values.input !== "string") throw usageError("missing --input JSON");
    const estimate = typeof values.estimate === "string" ? Number(values.estimate) : undefined;
    if (estimate !== undefined && (!Number.isInteger(estimate) || estimate < 1)) throw usageError("--estimate must be a whole number of seconds");
    const options = extractionOptionsFromFlags(values);
    const transcodeRequest = transcodeRequestFromSpecs(Array.isArray(values.transcode) ? values.transcode.filter((v): v is string => typeof v === "string") : []);
    const { video, transcode } = await generateVideo(ctx, {
      generator: values.generator,
      input: parseGenerationInput(values.input),
      ...(typeof values.title === "string" ? { title: values.title } : {}),
      ...(estimate ? { estimatedSeconds: estimate } : {}),
      ...(options ? { options } : {}),
      ...(transcodeRequest ? { transcode: transcodeRequest } : {}),
      wait: values.wait === true,
    });
    if (ctx.json) printJson(ctx, transcode ? { video, transcode } : { video });
    else if (values.wait) say(ctx, describeVideo(video) + (transcode ? `\n\n${describeTranscode(transcode)}` : ""));
    else say(ctx, `video ${video.id}: ${shortStatus(video.status)}, expected by ${video.estimatedCompletionAt} (vidsnap status ${video.id} --wait)`);
    if (!values.wait) return EXIT.ok;
    const extraction = outcomeExitCode(video);
    return extraction !== EXIT.ok ? extraction : transcode ? transcodeExitCode(transcode) : EXIT.ok;
  },
};
