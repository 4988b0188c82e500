/**
 * `vidsnap thumbnail <id> [--time S] [--width W] … [-o PATH]`: saves one thumbnail of a video (images on
 * demand: `GET /v1/videos/{id}/thumbnail.{jpg,png,webp}`), fetched through a short-lived signed URL so the
 * bearer token never goes into a URL. The file is written as `<path>.part` and renamed when complete.
 */
import { renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { signedImageUrls, toApiError, type ImageFile } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, say, usageError, type CliContext } from "../context.ts";

/** Formats of thumbnails, as file extensions. */
const FORMATS = ["jpg", "png", "webp"] as const;
type Format = (typeof FORMATS)[number];

/** What a thumbnail is made of: the route's query parameters (validated by the API, which names a bad one). */
export interface ThumbnailOptions {
  time?: number;
  width?: number;
  height?: number;
  fit?: string;
  rotate?: number;
  quality?: number;
  keyframe?: boolean;
  format?: Format;
}

export interface ThumbnailResult {
  videoId: string;
  /** Absolute path of the saved image. */
  file: string;
  bytes: number;
  contentType: string;
}

/** Lifetime of the signed URL the command fetches at once, seconds (the API's minimum). */
const URL_TTL_SECONDS = 60;

/**
 * @param output file or existing folder (relative to the cwd); default `<id>-thumbnail.<format>`; its
 *   extension chooses the format when `opts.format` is not given
 * @throws VidsnapApiError (400 naming the parameter, 404, 409 upload not complete, 422 unrenderable, 429, 503)
 */
export async function saveThumbnail(ctx: CliContext, id: string, opts: ThumbnailOptions, output?: string): Promise<ThumbnailResult> {
  const ext = output ? path.extname(output).slice(1).toLowerCase().replace("jpeg", "jpg") : "";
  const format: Format = opts.format ?? ((FORMATS as readonly string[]).includes(ext) ? (ext as Format) : "jpg");
  const query = {
    time: opts.time,
    width: opts.width,
    height: opts.height,
    fit_mode: opts.fit,
    rotate: opts.rotate,
    quality: opts.quality,
    accuracy: opts.keyframe ? "keyframe" : undefined,
  };
  const file: ImageFile = `thumbnail.${format}`;
  const { urls } = await signedImageUrls(apiClient(ctx), id, [{ file, query }], URL_TTL_SECONDS);
  const res = await ctx.fetch(urls[0]!.url, ctx.signal ? { signal: ctx.signal } : {});
  if (!res.ok) throw toApiError(res, await res.json().catch(() => undefined));
  const bytes = new Uint8Array(await res.arrayBuffer());
  let target = path.resolve(ctx.io.cwd, output ?? `${id}-thumbnail.${format}`);
  try {
    if (statSync(target).isDirectory()) target = path.join(target, `${id}-thumbnail.${format}`);
  } catch {
    /* does not exist yet: a file name */
  }
  const part = `${target}.part`;
  try {
    writeFileSync(part, bytes);
    renameSync(part, target);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
  return { videoId: id, file: target, bytes: bytes.byteLength, contentType: res.headers.get("content-type") ?? "" };
}

/** A number option, or a usage error naming it. */
function numberOption(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name];
  if (typeof v !== "string") return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw usageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export const thumbnailCommand: Command = {
  name: "thumbnail",
  summary: "save a thumbnail of a video at any time",
  help: `Usage: vidsnap thumbnail <id> [--time S] [--width W] [--height H] [-o PATH]

Saves the exact frame at or after --time (default: the middle of the video), rendered on demand and
cached by the API. Exit code 5 before the upload is complete, 2 for a parameter the API refuses.

Options:
  --time S           time of the frame, seconds (e.g. 12.5)
  --width W          width, pixels (1..3840); with --height, see --fit
  --height H         height, pixels (1..3840)
  --fit MODE         preserve (default), crop, pad or stretch (with both --width and --height)
  --rotate DEG       90, 180 or 270 (clockwise)
  --quality Q        1..100 (jpg, webp)
  --keyframe         the keyframe before --time instead of the exact frame (faster)
  --format FMT       jpg (default), png or webp (default: from the -o extension)
  -o, --output PATH  file to write, or an existing folder (default: <id>-thumbnail.<format>)

With --json prints {"videoId", "file", "bytes", "contentType"}.`,
  options: {
    time: { type: "string" },
    width: { type: "string" },
    height: { type: "string" },
    fit: { type: "string" },
    rotate: { type: "string" },
    quality: { type: "string" },
    keyframe: { type: "boolean" },
    format: { type: "string" },
    output: { type: "string", short: "o" },
  },
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, values, [id]) {
    if (!id) throw usageError("missing <id>");
    const format = values.format;
    if (format !== undefined && !(FORMATS as readonly unknown[]).includes(format)) throw usageError(`--format must be jpg, png or webp, got "${String(format)}"`);
    const result = await saveThumbnail(
      ctx,
      id,
      {
        time: numberOption(values, "time"),
        width: numberOption(values, "width"),
        height: numberOption(values, "height"),
        fit: typeof values.fit === "string" ? values.fit : undefined,
        rotate: numberOption(values, "rotate"),
        quality: numberOption(values, "quality"),
        keyframe: values.keyframe === true,
        format: format as Format | undefined,
      },
      typeof values.output === "string" ? values.output : undefined,
    );
    if (ctx.json) printJson(ctx, result);
    else say(ctx, `saved ${result.file} (${formatBytes(result.bytes)}, ${result.contentType})`);
    return EXIT.ok;
  },
};
