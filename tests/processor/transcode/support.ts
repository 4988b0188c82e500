/**
 * Helpers of the transcode tests: MSG_TRANSCODE envelopes, posting one and reading its TranscodeEvent
 * lines, the objects under an attempt prefix (listed, downloaded to a local folder), ffprobe of a local
 * file, and the top-level MP4 box order.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { TranscodeEvent, type TranscodeMessage } from "../../../schema/messages/transcode.ts";
import { transcodeAttemptPrefix } from "../../../schema/object-keys.ts";
import type { TranscodeRequest } from "../../../schema/transcode-options.ts";
import { listObjects } from "../../../tools/chaos/verify.ts";
import { getObject, postJob, signedJobInit, USER_ID, type Harness, type JobResponse } from "../harness.ts";

const run = promisify(execFile);

/** A valid MSG_TRANSCODE envelope for (USER_ID, videoId). */
export function transcodeJob(videoId: string, transcode: TranscodeRequest, opts: { transcodeId?: string; attempt?: number } = {}): TranscodeMessage {
  return {
    type: "MSG_TRANSCODE",
    sender: "VIDEO_API_SERVICE",
    target: "VIDEO_IMAGE_PROCESSOR_SERVICE",
    payload: { transcodeId: opts.transcodeId ?? `t-${videoId}`, videoId, userId: USER_ID, attempt: opts.attempt ?? 1, transcode },
  };
}

/** POSTs a transcode job and reads every event (parsed with TranscodeEvent). */
export function postTranscode(h: Harness, message: TranscodeMessage, baseUrl = h.url): Promise<JobResponse<TranscodeEvent>> {
  return postJob(baseUrl, message, {}, TranscodeEvent);
}

/** Signed `DELETE /jobs/{key}` (the key URL-encoded). */
export async function deleteJob(baseUrl: string, key: string): Promise<Response> {
  const init = await signedJobInit("");
  return fetch(`${baseUrl}/jobs/${encodeURIComponent(key)}`, { ...init, method: "DELETE", body: "" });
}

/** The attempt prefix of a transcode job. */
export function prefixOf(message: TranscodeMessage): string {
  const p = message.payload;
  return transcodeAttemptPrefix(p.userId, p.videoId, p.transcodeId, p.attempt);
}

/**
 * Keys under `prefix` in the videos bucket, relative to it, sorted; read from the S3 server's data folder
 * (the local S3 server does not answer ListObjectsV2, ../shared/toolchain-notes.md).
 */
export async function listPrefix(h: Harness, prefix: string): Promise<string[]> {
  const start = `${h.config.videosBucket}/${prefix}`;
  return listObjects(path.join(h.dataDir, "s3"))
    .filter((k) => k.startsWith(start))
    .map((k) => k.slice(start.length))
    .sort();
}

/** Downloads every object under `prefix` into `dir` (same relative paths). @returns the relative keys */
export async function downloadPrefix(h: Harness, prefix: string, dir: string): Promise<string[]> {
  const keys = await listPrefix(h, prefix);
  for (const key of keys) {
    const file = path.join(dir, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, await getObject(h, h.config.videosBucket, `${prefix}${key}`));
  }
  return keys;
}

/** ffprobe's streams and format of a local file (or playlist). */
export async function ffprobeJson(file: string): Promise<{
  streams: { codec_type: string; codec_name: string; profile?: string; width?: number; height?: number; side_data_list?: { rotation?: number }[]; tags?: Record<string, string> }[];
  format: { duration?: string; format_name: string };
}> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
  return JSON.parse(stdout);
}

/** Frames of the first video stream, counted by decoding it (ffprobe `-count_frames`). */
export async function videoFrameCount(file: string): Promise<number> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file]);
  return Number(stdout.trim());
}

/** Top-level ISO BMFF box types of a file in order (`ftyp`, `moov`, `mdat`…). */
export async function topLevelBoxes(file: string): Promise<string[]> {
  const b = await readFile(file);
  const types: string[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    let size = b.readUInt32BE(at);
    const type = b.subarray(at + 4, at + 8).toString("latin1");
    if (size === 1) size = Number(b.readBigUInt64BE(at + 8));
    else if (size === 0) size = b.length - at;
    types.push(type);
    if (size < 8) break;
    at += size;
  }
  return types;
}

/** Runs ffmpeg to decode a whole input; @returns its stderr at level error (empty when clean). @throws on a non-zero exit */
export async function decodeAll(input: string, cwd: string): Promise<{ stderr: string; frames: number }> {
  const { stderr } = await run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-stats", "-i", input, "-map", "0:v:0", "-f", "null", "-"], { cwd, maxBuffer: 64 * 1024 * 1024 });
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1])).at(-1) ?? 0;
  return { stderr: stderr.split(/\r|\n/).filter((l) => l.trim() && !/^frame=/.test(l.trim())).join("\n"), frames };
}
