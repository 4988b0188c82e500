/**
 * `vidsnap download <id> [-o path]`: saves the video's ZIP (`GET /v1/videos/{id}/images.zip` → 302 to a
 * presigned URL, fetched without the bearer token). The file is written as `<path>.part` and renamed
 * when complete, so an interrupted download never leaves a truncated ZIP under the final name.
 */
import { createWriteStream, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { archiveUrl } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, CliError, EXIT, formatBytes, printJson, say, usageError, type CliContext } from "../context.ts";
import { createProgressBar } from "../progress.ts";

export interface DownloadResult {
  videoId: string;
  /** Absolute path of the saved ZIP. */
  file: string;
  bytes: number;
}

/** The file name of `Content-Disposition: attachment; filename="x.zip"`, without any folder part. */
function dispositionFileName(header: string | null): string | undefined {
  const m = header && /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  if (!m) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(m[1]!);
  } catch {
    name = m[1]!;
  }
  name = path.basename(name.replace(/\\/g, "/")).replace(/[\u0000-\u001f\u007f]/g, "");
  return name && name !== "." && name !== ".." ? name : undefined;
}

/**
 * Saves a presigned URL (fetched without the bearer token) to a file, through `<file>.part` renamed when
 * complete, with a byte progress bar on stderr.
 * @param output file or existing folder (relative to the context's cwd); default `fallbackName` in the cwd
 * @param fallbackName file name when the storage suggests none (`Content-Disposition`)
 * @param what names the thing in the error message, e.g. `the ZIP of <id>`
 * @returns the absolute path written and its size, bytes
 * @throws CliError (1) when the storage refuses, network errors
 */
export async function saveUrl(ctx: CliContext, url: string, output: string | undefined, fallbackName: string, what: string): Promise<{ file: string; bytes: number }> {
  const res = await ctx.fetch(url, ctx.signal ? { signal: ctx.signal } : {});
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new CliError(`the storage answered ${res.status} for ${what}`, EXIT.failed);
  }
  const suggested = dispositionFileName(res.headers.get("content-disposition")) ?? fallbackName;
  let file = path.resolve(ctx.io.cwd, output ?? suggested);
  try {
    if (statSync(file).isDirectory()) file = path.join(file, suggested);
  } catch {
    /* does not exist yet: a file name */
  }
  const total = Number(res.headers.get("content-length")) || 0;
  const bar = createProgressBar(ctx, "download");
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      bar.update(total ? received / total : 0, formatBytes(received));
      cb(null, chunk);
    },
  });
  const part = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), counter, createWriteStream(part));
    renameSync(part, file);
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
  bar.done(formatBytes(received));
  return { file, bytes: statSync(file).size };
}

/**
 * @param output file or existing folder (relative to the context's cwd); default: the file name the
 *   storage suggests (`<video name>-images.zip`) in the cwd, else `vidsnap-<id>.zip`
 * @throws VidsnapApiError (404, 409 not ready), CliError (1) when the storage refuses, network errors
 */
export async function download(ctx: CliContext, id: string, output?: string): Promise<DownloadResult> {
  const url = await archiveUrl(apiClient(ctx), id);
  const saved = await saveUrl(ctx, url, output, `vidsnap-${id}.zip`, `the ZIP of ${id}`);
  return { videoId: id, ...saved };
}

export const downloadCommand: Command = {
  name: "download",
  summary: "save a finished video's ZIP of images",
  help: `Usage: vidsnap download <id> [-o PATH]

Saves the ZIP (images/… and manifest.json). Exit code 5 while the extraction has not succeeded.

Options:
  -o, --output PATH  file to write, or an existing folder to write into
                     (default: <video name>-images.zip in the current folder)

With --json prints {"videoId", "file", "bytes"}.`,
  options: { output: { type: "string", short: "o" } },
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, values, [id]) {
    if (!id) throw usageError("missing <id>");
    const result = await download(ctx, id, typeof values.output === "string" ? values.output : undefined);
    if (ctx.json) printJson(ctx, result);
    else say(ctx, `saved ${result.file} (${formatBytes(result.bytes)})`);
    return EXIT.ok;
  },
};
