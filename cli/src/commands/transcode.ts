/**
 * `vidsnap transcode <id> --mp4 720,480 --webm 480 --hls [720,480] … [--wait]`: starts a transcode of a video
 * (`POST /v1/videos/{id}/transcodes`); with `--wait`, follows it with a progress bar (speed × real time, ETA)
 * and prints its outputs. Also the flag parsing shared with `vidsnap upload --transcode` and the waiting and
 * describing shared with `transcode-status` / `transcode-retry` (./transcodes.ts).
 */
import {
  formatEta,
  TRANSCODE_FINAL_STATUSES,
  unwrap,
  waitForTranscode,
  type Schemas,
  type Transcode,
  type TranscodeRequest,
  type VidsnapClient,
} from "../../../client/src/index.ts";
import type { Command, ParsedValues } from "../command.ts";
import { apiClient, EXIT, formatBytes, printJson, say, shortStatus, usageError, type CliContext, type ExitCode } from "../context.ts";
import { createProgressBar } from "../progress.ts";
import { parseDuration } from "../flags.ts";

type Rendition = Schemas["Rendition"];
type RenditionHeight = Schemas["RenditionHeight"];
type Quality = Schemas["TranscodeQuality"];

/** Heights the API accepts (schema/transcode-options.ts RENDITION_HEIGHTS; the API checks them again). */
const HEIGHTS: readonly RenditionHeight[] = [2160, 1440, 1080, 720, 480, 360, 240];
const FORMATS = ["mp4", "webm", "hls"] as const;
type Format = (typeof FORMATS)[number];

/**
 * Parses a height list: `720,480` or `720p,480p`.
 * @param flag the option, for the error message
 * @returns the heights in the given order (distinct)
 * @throws CliError (exit 2) on a height outside {@link HEIGHTS}, a repeat, or an empty list
 */
export function parseHeights(text: string, flag: string): RenditionHeight[] {
  const parts = text.split(",").map((p) => p.trim().replace(/p$/i, "")).filter((p) => p !== "");
  if (parts.length === 0) throw usageError(`${flag} takes heights like 720,480`);
  const heights = parts.map((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || !HEIGHTS.includes(n as RenditionHeight)) throw usageError(`${flag}: height "${p}" is not one of ${HEIGHTS.join(", ")}`);
    return n as RenditionHeight;
  });
  if (new Set(heights).size !== heights.length) throw usageError(`${flag}: each height once`);
  return heights;
}

/**
 * The renditions of one format: `mp4`/`webm` → one rendition per height (none given: one at the source's
 * height), `hls` → one ladder with those heights (none given: the API's default ladder).
 * @param heights undefined = the format's default
 */
export function renditionsOf(format: Format, heights: RenditionHeight[] | undefined, encoder: EncoderFlags): Rendition[] {
  if (format === "hls") return [{ format, ...(heights ? { heights } : {}), ...encoder }];
  return (heights ?? [undefined]).map((height) => ({ format, ...(height !== undefined ? { height } : {}), ...encoder }));
}

/** Encoder settings the CLI applies to every rendition (the API takes them per rendition). */
export interface EncoderFlags {
  quality?: Quality;
  videoBitrateKbps?: number;
  audio?: false;
}

/**
 * `--hls` takes an optional ladder (`--hls` alone = the default ladder), which `parseArgs` cannot express:
 * `--hls` followed by a height list becomes `--hls=720,480`, `--hls` alone becomes `--hls=` (empty = default).
 * @param args the command's arguments
 * @returns the arguments with every bare `--hls` rewritten
 */
export function normalizeHlsFlag(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (a !== "--hls") {
      out.push(a);
      continue;
    }
    const next = args[i + 1];
    if (next !== undefined && /^\s*\d+p?\s*(,\s*\d+p?\s*)*$/i.test(next)) {
      out.push(`--hls=${next}`);
      i++;
    } else out.push("--hls=");
  }
  return out;
}

/**
 * Builds the request of `vidsnap transcode` from its flags; ranges the CLI does not know are checked by the
 * API (a 400 names the field, exit 2).
 * @throws CliError (exit 2): no format, malformed heights or durations, --quality with --bitrate
 */
export function transcodeRequestFromFlags(values: ParsedValues): TranscodeRequest {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const list = (name: string): string[] | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
  };
  const quality = str("quality");
  if (quality !== undefined && !["low", "medium", "high"].includes(quality)) throw usageError("--quality is low, medium or high");
  const bitrate = str("bitrate");
  if (quality !== undefined && bitrate !== undefined) throw usageError("--quality and --bitrate exclude each other");
  let videoBitrateKbps: number | undefined;
  if (bitrate !== undefined) {
    videoBitrateKbps = Number(bitrate.replace(/k$/i, ""));
    if (!/^\s*\d+k?\s*$/i.test(bitrate) || !Number.isSafeInteger(videoBitrateKbps)) throw usageError(`--bitrate takes kbit/s as a whole number, not "${bitrate}"`);
  }
  const encoder: EncoderFlags = {
    ...(quality !== undefined ? { quality: quality as Quality } : {}),
    ...(videoBitrateKbps !== undefined ? { videoBitrateKbps } : {}),
    ...(values["no-audio"] === true ? { audio: false as const } : {}),
  };
  const renditions: Rendition[] = [];
  for (const format of FORMATS) {
    for (const value of list(format) ?? []) renditions.push(...renditionsOf(format, value.trim() === "" ? undefined : parseHeights(value, `--${format}`), encoder));
  }
  if (renditions.length === 0) throw usageError("give at least one of --mp4, --webm, --hls");
  const start = str("start");
  const end = str("end");
  return {
    renditions,
    ...(start !== undefined ? { startSeconds: parseDuration(start, "--start", true) } : {}),
    ...(end !== undefined ? { endSeconds: parseDuration(end, "--end") } : {}),
    ...(values.upscale === true ? { upscale: true } : {}),
  };
}

/**
 * Parses the `--transcode FORMAT[:HEIGHTS]` values of `vidsnap upload` (repeatable): `mp4:720,480`, `webm`,
 * `hls:720,480`, `hls` (default ladder).
 * @returns the request, or undefined when no `--transcode` is given
 * @throws CliError (exit 2) on an unknown format or malformed heights
 */
export function transcodeRequestFromSpecs(specs: string[]): TranscodeRequest | undefined {
  if (specs.length === 0) return undefined;
  const renditions = specs.flatMap((spec) => {
    const [format, heights, extra] = spec.split(":");
    if (extra !== undefined || !FORMATS.includes(format as Format)) throw usageError(`--transcode takes FORMAT[:HEIGHTS] with FORMAT mp4, webm or hls (e.g. mp4:720,480), not "${spec}"`);
    return renditionsOf(format as Format, heights === undefined || heights === "" ? undefined : parseHeights(heights, "--transcode"), {});
  });
  return { renditions };
}

/** The bar's suffix: `processing 2.4× ETA 0:42`. */
export function transcodeProgressSuffix(t: Pick<Transcode, "status" | "speed" | "etaSeconds">): string {
  const parts = [shortStatus(t.status)];
  if (t.speed !== null && t.status === "TRANSCODE_PROCESSING") parts.push(`${t.speed.toFixed(t.speed < 10 ? 2 : 1)}×`);
  if (t.etaSeconds !== null && t.status === "TRANSCODE_PROCESSING") parts.push(`ETA ${formatEta(t.etaSeconds)}`);
  return parts.join(" ");
}

/**
 * Polls the transcode with backoff until it succeeded or failed, drawing a `transcode` bar on stderr
 * (progress, speed, ETA; not with `--json`).
 * @param timeoutMs give up after this long (default 2 h 10 min: TRANSCODE_TIMEOUT_SECONDS' default plus queueing)
 * @returns the final transcode, with fresh output links
 * @throws VidsnapApiError (404 when deleted meanwhile), network errors, Error after `timeoutMs`
 */
export async function waitTranscodeWithProgress(ctx: CliContext, api: VidsnapClient, videoId: string, transcodeId: string, timeoutMs = 7_800_000): Promise<Transcode> {
  const bar = createProgressBar(ctx, "transcode");
  const t = await waitForTranscode(api, videoId, transcodeId, {
    timeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onUpdate: (s) => bar.update(s.status === "TRANSCODE_SUCCESS" ? 1 : (s.progress ?? 0), transcodeProgressSuffix(s)),
  });
  const elapsed = t.elapsedSeconds !== null && t.sourceDurationSeconds !== null && t.elapsedSeconds > 0 ? ` in ${t.elapsedSeconds.toFixed(1)} s` : "";
  bar.done(shortStatus(t.status) + (t.status === "TRANSCODE_SUCCESS" ? elapsed : ""), t.status === "TRANSCODE_SUCCESS" ? 1 : (t.progress ?? 0));
  return t;
}

/** Exit code of a transcode after waiting: 0 success, 1 error. */
export function transcodeExitCode(t: Transcode): ExitCode {
  if (t.status === "TRANSCODE_SUCCESS") return EXIT.ok;
  return TRANSCODE_FINAL_STATUSES.includes(t.status) ? EXIT.failed : EXIT.conflict;
}

/** `mp4 720p, mp4 480p, hls 720/480p, from 2 s to 5 s`: a transcode request in words. */
export function describeRequest(r: TranscodeRequest): string {
  const parts = r.renditions.map((x) => {
    const h = x.format === "hls" ? (x.heights ? `${x.heights.join("/")}p` : "default ladder") : x.height !== undefined ? `${x.height}p` : "source height";
    const enc = [x.quality, x.videoBitrateKbps !== undefined ? `${x.videoBitrateKbps} kbit/s` : undefined, x.audio === false ? "no audio" : undefined].filter(Boolean);
    return `${x.format} ${h}${enc.length ? ` (${enc.join(", ")})` : ""}`;
  });
  if (r.startSeconds !== undefined || r.endSeconds !== undefined) parts.push(`from ${r.startSeconds ?? 0} s to ${r.endSeconds !== undefined ? `${r.endSeconds} s` : "the end"}`);
  if (r.upscale) parts.push("upscale: at most the source's height");
  return parts.join(", ");
}

/** Human description of a transcode and its outputs (sizes, dimensions, links), several lines. */
export function describeTranscode(t: Transcode): string {
  const running = !TRANSCODE_FINAL_STATUSES.includes(t.status);
  const lines = [
    `transcode ${t.id}`,
    `video     ${t.videoId}`,
    `status    ${shortStatus(t.status)}${t.attempt > 1 ? ` (attempt ${t.attempt})` : ""}${
      running && t.progress !== null ? `, ${Math.round(t.progress * 100)}%` : ""
    }${running && t.status === "TRANSCODE_PROCESSING" ? ` ${transcodeProgressSuffix(t).replace(/^processing ?/, "")}` : ""}`,
    `asked     ${describeRequest(t.request)}`,
    `created   ${t.createdAt}`,
  ];
  if (t.sourceDurationSeconds !== null) lines.push(`source    ${t.sourceDurationSeconds.toFixed(2)} s`);
  if (t.status === "TRANSCODE_SUCCESS") {
    if (t.elapsedSeconds !== null) lines.push(`encoded   in ${t.elapsedSeconds.toFixed(1)} s`);
    lines.push("outputs:");
    for (const o of t.outputs) {
      const dims = o.width !== null && o.height !== null ? `${o.width}x${o.height}` : "-";
      const facts = [dims, o.durationSeconds !== null ? `${o.durationSeconds.toFixed(2)} s` : "-", formatBytes(o.sizeBytes), o.bitrateKbps !== null ? `${Math.round(o.bitrateKbps)} kbit/s` : "-", o.hasAudio ? "audio" : "no audio"];
      lines.push(`  ${o.rendition.padEnd(9)} ${facts.join("  ")}`);
      lines.push(`            ${o.url}`);
    }
    if (t.outputs.length) lines.push(`links expire ${t.outputs[0]!.expiresAt} (vidsnap transcode-status ${t.videoId} ${t.id} for fresh ones)`);
  }
  if (t.status === "TRANSCODE_ERROR") {
    lines.push(`error     ${t.errorMessage ?? "unknown"}`);
    if (t.errorDescription) lines.push(`          ${t.errorDescription}`);
    lines.push(`          (vidsnap transcode-retry ${t.videoId} ${t.id})`);
  }
  return lines.join("\n");
}

/** @throws VidsnapApiError (400 naming the bad option, 404, 409 too many running), network errors */
export async function startTranscode(ctx: CliContext, videoId: string, request: TranscodeRequest): Promise<Transcode> {
  return unwrap(await apiClient(ctx).POST("/v1/videos/{id}/transcodes", { params: { path: { id: videoId } }, body: request })).transcode;
}

export const transcodeCommand: Command = {
  name: "transcode",
  summary: "make MP4 / WebM / HLS renditions of a video (--wait: until done)",
  help: `Usage: vidsnap transcode <id> [--mp4 HEIGHTS] [--webm HEIGHTS] [--hls [HEIGHTS]] [options] [--wait]

Makes renditions of the video from one decode. Prints the transcode id (with --json: {"transcode": …}).
HEIGHTS is a comma-separated list of 2160, 1440, 1080, 720, 480, 360, 240.

Formats (at least one; each may be repeated):
  --mp4 HEIGHTS       one H.264/AAC MP4 per height (faststart: plays while downloading)
  --webm HEIGHTS      one VP9/Opus WebM per height
  --hls [HEIGHTS]     one HLS ladder with these variants (alone: 1080, 720, 480, 360 up to the source's height)

Options:
  --start DURATION, --end DURATION  only this part of the video (10, 10s, 1.5s, 500ms, 2m)
  --quality Q         low, medium (default) or high
  --bitrate KBPS      target video bitrate, kbit/s (100..50000), instead of --quality
  --no-audio          leave the audio out
  --upscale           make a rendition taller than the source at the source's height instead of failing
  --wait              follow the transcode until it ends (progress bar with speed × real time and ETA on
                      stderr), then print the outputs; exit code 0 when it succeeded, 1 when it failed

Examples:
  vidsnap transcode <id> --mp4 720,480 --hls --wait
  vidsnap transcode <id> --webm 480 --start 10s --end 1m --quality low
  vidsnap transcode-download <id> <transcode id> --rendition mp4-720`,
  options: {
    mp4: { type: "string", multiple: true },
    webm: { type: "string", multiple: true },
    hls: { type: "string", multiple: true },
    start: { type: "string" },
    end: { type: "string" },
    quality: { type: "string" },
    bitrate: { type: "string" },
    "no-audio": { type: "boolean" },
    upscale: { type: "boolean" },
    wait: { type: "boolean" },
  },
  normalizeArgs: normalizeHlsFlag,
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, values, [id]) {
    if (!id) throw usageError("missing <id>");
    const request = transcodeRequestFromFlags(values);
    let transcode = await startTranscode(ctx, id, request);
    if (values.wait) transcode = await waitTranscodeWithProgress(ctx, apiClient(ctx), id, transcode.id);
    if (ctx.json) printJson(ctx, { transcode });
    else if (values.wait) say(ctx, describeTranscode(transcode));
    else say(ctx, `transcode ${transcode.id}: ${shortStatus(transcode.status)} (vidsnap transcode-status ${id} ${transcode.id} --wait)`);
    return values.wait ? transcodeExitCode(transcode) : EXIT.ok;
  },
};
