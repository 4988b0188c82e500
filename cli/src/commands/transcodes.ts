/**
 * The commands on existing transcodes of a video: `transcodes` (list), `transcode-status`, `transcode-retry`,
 * `transcode-rm` and `transcode-download` (one output file, through its presigned URL, without the bearer token).
 */
import { unwrap, type Transcode } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, CliError, EXIT, formatBytes, note, printJson, say, shortStatus, usageError, type CliContext } from "../context.ts";
import { saveUrl } from "./download.ts";
import { describeRequest, describeTranscode, transcodeExitCode, waitTranscodeWithProgress } from "./transcode.ts";

/**
 * Every transcode of a video, newest first (follows `nextCursor` to the last page).
 * @throws VidsnapApiError (404 unknown video), network errors
 */
export async function listTranscodes(ctx: CliContext, videoId: string): Promise<Transcode[]> {
  const api = apiClient(ctx);
  const data: Transcode[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = unwrap(
      await api.GET("/v1/videos/{id}/transcodes", { params: { path: { id: videoId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    );
    data.push(...page.data);
    if (!page.nextCursor) return data;
    cursor = page.nextCursor;
  }
}

/** @throws VidsnapApiError (404), network errors */
export async function getTranscode(ctx: CliContext, videoId: string, transcodeId: string): Promise<Transcode> {
  return unwrap(await apiClient(ctx).GET("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id: videoId, tid: transcodeId } } })).transcode;
}

/** A fixed-width table of transcodes. */
export function transcodeTable(transcodes: Transcode[]): string {
  const rows = [
    ["ID", "STATUS", "OUTPUTS", "CREATED", "ASKED"],
    ...transcodes.map((t) => [
      t.id,
      shortStatus(t.status) + (t.status === "TRANSCODE_PROCESSING" && t.progress !== null ? ` ${Math.round(t.progress * 100)}%` : ""),
      t.status === "TRANSCODE_SUCCESS" ? formatBytes(t.outputs.filter((o) => o.rendition !== "hls").reduce((n, o) => n + o.sizeBytes, 0)) : "-",
      t.createdAt.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
      describeRequest(t.request),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

export const transcodesCommand: Command = {
  name: "transcodes",
  summary: "list a video's transcodes, newest first",
  help: `Usage: vidsnap transcodes <id>

Lists the transcodes of the video with their status and what was asked.
With --json prints {"data": [transcode…]}.`,
  options: {},
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, _values, [id]) {
    if (!id) throw usageError("missing <id>");
    const data = await listTranscodes(ctx, id);
    if (ctx.json) printJson(ctx, { data });
    else say(ctx, data.length ? transcodeTable(data) : `no transcodes (vidsnap transcode ${id} --mp4 720 --wait)`);
    return EXIT.ok;
  },
};

export const transcodeStatusCommand: Command = {
  name: "transcode-status",
  summary: "show a transcode's state and outputs (--wait: until it ends)",
  help: `Usage: vidsnap transcode-status <id> <transcode id> [--wait]

Shows the transcode's status, progress, speed and ETA, and once done its outputs with sizes and links
(links expire: run it again for fresh ones).

Options:
  --wait   poll until the transcode succeeded or failed (progress bar with speed and ETA on stderr);
           exit code 0 when it succeeded, 1 when it failed`,
  options: { wait: { type: "boolean" } },
  positionals: { min: 2, max: 2, names: "<id> <transcode id>" },
  async run(ctx, values, [id, tid]) {
    if (!id || !tid) throw usageError("missing <id> <transcode id>");
    const transcode = values.wait ? await waitTranscodeWithProgress(ctx, apiClient(ctx), id, tid) : await getTranscode(ctx, id, tid);
    if (ctx.json) printJson(ctx, { transcode });
    else say(ctx, describeTranscode(transcode));
    return values.wait ? transcodeExitCode(transcode) : EXIT.ok;
  },
};

export const transcodeRetryCommand: Command = {
  name: "transcode-retry",
  summary: "retry a failed transcode",
  help: `Usage: vidsnap transcode-retry <id> <transcode id> [--wait]

Queues a new attempt of a transcode that failed. Exit code 5 when it is in any other status.

Options:
  --wait   follow the new attempt until it ends (exit code 0 success, 1 failed)`,
  options: { wait: { type: "boolean" } },
  positionals: { min: 2, max: 2, names: "<id> <transcode id>" },
  async run(ctx, values, [id, tid]) {
    if (!id || !tid) throw usageError("missing <id> <transcode id>");
    const api = apiClient(ctx);
    let transcode = unwrap(await api.POST("/v1/videos/{id}/transcodes/{tid}/retry", { params: { path: { id, tid } } })).transcode;
    if (values.wait) transcode = await waitTranscodeWithProgress(ctx, api, id, tid);
    if (ctx.json) printJson(ctx, { transcode });
    else if (values.wait) say(ctx, describeTranscode(transcode));
    else say(ctx, `transcode ${tid}: attempt ${transcode.attempt} ${shortStatus(transcode.status)} (vidsnap transcode-status ${id} ${tid} --wait)`);
    return values.wait ? transcodeExitCode(transcode) : EXIT.ok;
  },
};

export const transcodeRmCommand: Command = {
  name: "transcode-rm",
  summary: "delete transcodes and their outputs",
  help: `Usage: vidsnap transcode-rm <id> <transcode id> [<transcode id>…]

Deletes each transcode of the video with every output of every attempt; a running one is stopped.
Exit code 4 when one does not exist. With --json prints {"deleted": [transcode id…]}.`,
  options: {},
  positionals: { min: 2, max: 101, names: "<id> <transcode id>…" },
  async run(ctx, _values, [id, ...tids]) {
    if (!id) throw usageError("missing <id>");
    const api = apiClient(ctx);
    const deleted: string[] = [];
    for (const tid of tids) {
      unwrap(await api.DELETE("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id, tid } } }));
      deleted.push(tid);
      say(ctx, `deleted ${tid}`);
    }
    if (ctx.json) printJson(ctx, { deleted });
    return EXIT.ok;
  },
};

/** File extension of an output's format. */
const EXTENSIONS = { mp4: "mp4", webm: "webm", hls: "m3u8" } as const;

export const transcodeDownloadCommand: Command = {
  name: "transcode-download",
  summary: "save one output file of a finished transcode",
  help: `Usage: vidsnap transcode-download <id> <transcode id> [--rendition NAME] [-o PATH]

Saves one MP4 or WebM output. Exit code 5 while the transcode has not succeeded. HLS is many files:
play its playlist URL (vidsnap transcode-status) with ffplay, Safari or hls.js, or copy it to one file
with: ffmpeg -i '<playlist URL>' -c copy out.mp4

Options:
  --rendition NAME   which output, e.g. mp4-720 or webm-480 (needed when there are several files)
  -o, --output PATH  file to write, or an existing folder to write into
                     (default: <video name>-<rendition>.<ext> in the current folder)

With --json prints {"videoId", "transcodeId", "rendition", "file", "bytes"}.`,
  options: { rendition: { type: "string" }, output: { type: "string", short: "o" } },
  positionals: { min: 2, max: 2, names: "<id> <transcode id>" },
  async run(ctx, values, [id, tid]) {
    if (!id || !tid) throw usageError("missing <id> <transcode id>");
    const transcode = await getTranscode(ctx, id, tid);
    if (transcode.status !== "TRANSCODE_SUCCESS") {
      throw new CliError(`transcode ${tid} is ${shortStatus(transcode.status)}: nothing to download yet (vidsnap transcode-status ${id} ${tid} --wait)`, EXIT.conflict);
    }
    const files = transcode.outputs.filter((o) => o.format !== "hls");
    const asked = typeof values.rendition === "string" ? values.rendition : undefined;
    const choices = files.map((o) => o.rendition).join(", ") || "none";
    if (asked?.startsWith("hls")) {
      throw usageError(`HLS is many files: play ${transcode.playbackUrl ?? "its playlist URL"} or copy it with ffmpeg -i '<url>' -c copy out.mp4`);
    }
    const output = asked ? files.find((o) => o.rendition === asked) : files.length === 1 ? files[0] : undefined;
    if (!output) throw usageError(asked ? `no output "${asked}": one of ${choices}` : `choose an output with --rendition: ${choices}`);
    const saved = await saveUrl(
      ctx,
      output.url,
      typeof values.output === "string" ? values.output : undefined,
      `vidsnap-${tid}-${output.rendition}.${EXTENSIONS[output.format]}`,
      `${output.rendition} of transcode ${tid}`,
    );
    const result = { videoId: id, transcodeId: tid, rendition: output.rendition, ...saved };
    if (ctx.json) printJson(ctx, result);
    else {
      say(ctx, `saved ${result.file} (${formatBytes(result.bytes)})`);
      if (!asked && transcode.playbackUrl) note(ctx, `HLS playlist: ${transcode.playbackUrl}`);
    }
    return EXIT.ok;
  },
};
