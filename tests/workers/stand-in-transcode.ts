/**
 * The transcode side of the stand-in processor (./stand-in-processor.ts): `POST /jobs` with a MSG_TRANSCODE
 * envelope, and `DELETE /jobs/{transcodeId}%23{attempt}` (cancel). No ffmpeg: the `success` scenario stores
 * small fake outputs at the keys of schema/object-keys.ts (an MP4/WebM file per file rendition; for HLS a
 * master playlist, and per variant a media playlist, an init segment and two media segments), then streams
 * PROCESSING, two PROGRESS and SUCCESS. `stall` streams PROCESSING + PROGRESS and keeps the response open
 * until the job is cancelled (DELETE answers 204) or the client goes away.
 */
import type http from "node:http";
import {
  transcodeErrorMessage,
  transcodeProcessingMessage,
  transcodeProgressMessage,
  transcodeSuccessMessage,
  type TranscodeMessage,
  type TranscodeOutput,
} from "../../schema/messages/index.ts";
import { s3Uri, transcodeAttemptPrefix } from "../../schema/object-keys.ts";
import { renditionName } from "../../schema/transcode-options.ts";
import { SAMPLE_SOURCE_FACTS } from "./fixtures.ts";

type PutObject = (bucket: string, key: string, body: Uint8Array | string, contentType: string) => Promise<void>;

const VIDEOS_BUCKET = "vidsnap-videos";

/** Running `stall` jobs by job key `{transcodeId}#{attempt}`: ends the stream when called. */
const running = new Map<string, () => void>();

/** Bytes of one stored fake object (tests compare downloads with them). */
export function fakeOutputBytes(key: string): string {
  return `stand-in output ${key}`;
}

/** Stores the fake outputs of a job and returns what a SUCCESS reports about them. */
async function storeOutputs(job: TranscodeMessage, putObject: PutObject): Promise<TranscodeOutput[]> {
  const p = job.payload;
  const prefix = transcodeAttemptPrefix(p.userId, p.videoId, p.transcodeId, p.attempt);
  const outputs: TranscodeOutput[] = [];
  const facts = (height: number) => ({ width: Math.round((height * 16) / 9 / 2) * 2, height, durationSeconds: 12.5, bitrateKbps: 800, hasAudio: true });
  for (const r of p.transcode.renditions) {
    if (r.format === "mp4" || r.format === "webm") {
      const name = renditionName(r.format, r.height);
      const key = `${prefix}${name}.${r.format}`;
      await putObject(VIDEOS_BUCKET, key, fakeOutputBytes(key), `video/${r.format}`);
      outputs.push({ rendition: name, format: r.format, contentType: `video/${r.format}`, uri: s3Uri(VIDEOS_BUCKET, key), sizeBytes: fakeOutputBytes(key).length, ...facts(r.height ?? 360) });
      continue;
    }
    const heights = r.heights ?? [360];
    const master = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
    for (const h of heights) {
      const folder = `${prefix}hls/${h}/`;
      const media = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:6",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        '#EXT-X-MAP:URI="init.mp4"',
        "#EXTINF:6.000,",
        "seg-00001.m4s",
        "#EXTINF:6.500,",
        "seg-00002.m4s",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n");
      await putObject(VIDEOS_BUCKET, `${folder}index.m3u8`, media, "application/vnd.apple.mpegurl");
      for (const file of ["init.mp4", "seg-00001.m4s", "seg-00002.m4s"]) {
        await putObject(VIDEOS_BUCKET, `${folder}${file}`, fakeOutputBytes(`${folder}${file}`), "video/mp4");
      }
      master.push(`#EXT-X-STREAM-INF:BANDWIDTH=${h * 2000},RESOLUTION=${facts(h).width}x${h},CODECS="avc1.64001f,mp4a.40.2"`, `${h}/index.m3u8`);
      outputs.push({ rendition: renditionName("hls", h), format: "hls", contentType: "application/vnd.apple.mpegurl", uri: s3Uri(VIDEOS_BUCKET, `${folder}index.m3u8`), sizeBytes: 500, ...facts(h) });
    }
    await putObject(VIDEOS_BUCKET, `${prefix}hls/master.m3u8`, master.join("\n") + "\n", "application/vnd.apple.mpegurl");
    outputs.push({ rendition: "hls", format: "hls", contentType: "application/vnd.apple.mpegurl", uri: s3Uri(VIDEOS_BUCKET, `${prefix}hls/master.m3u8`), sizeBytes: 1500, width: null, height: null, durationSeconds: 12.5, bitrateKbps: null, hasAudio: true });
  }
  return outputs;
}

/**
 * Answers one signed MSG_TRANSCODE request.
 * @param scenario what the tests scripted for the transcode id
 * @param line writes one NDJSON line
 */
export async function runTranscode(
  job: TranscodeMessage,
  scenario: string,
  res: http.ServerResponse,
  line: (value: unknown) => Promise<void>,
  putObject: PutObject,
): Promise<void> {
  const { transcodeId, videoId, userId, attempt } = job.payload;
  const ref = { transcodeId, videoId, userId, attempt };
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  await line(transcodeProcessingMessage(ref));
  await line(transcodeProgressMessage({ ...ref, fraction: 0.25, speed: 2.5, etaSeconds: 30 }));
  if (scenario === "stall") {
    const key = `${transcodeId}#${attempt}`;
    const end = () => {
      running.delete(key);
      if (!res.writableEnded) res.end();
    };
    running.set(key, end);
    const timer = setTimeout(end, 60_000);
    timer.unref();
    res.on("close", () => {
      clearTimeout(timer);
      running.delete(key);
    });
    return;
  }
  await line(transcodeProgressMessage({ ...ref, fraction: 0.75, speed: 3, etaSeconds: 5 }));
  if (scenario === "error") {
    await line(transcodeErrorMessage({ ...ref, errorMessage: "The height 2160 is above the source's (360).", errorDescription: "upscale is not set" }));
    res.end();
    return;
  }
  const outputs = await storeOutputs(job, putObject);
  res.end(JSON.stringify(transcodeSuccessMessage({ ...ref, outputs, source: SAMPLE_SOURCE_FACTS, elapsedSeconds: 4, speed: 3.1 })));
}

/** `DELETE /jobs/{key}`: 204 when that job was running here (its stream ends), 404 otherwise. */
export function cancelTranscode(key: string): 204 | 404 {
  const end = running.get(key);
  if (!end) return 404;
  end();
  return 204;
}
