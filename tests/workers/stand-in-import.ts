/**
 * The stand-in processor's answer to a MSG_IMPORT_VIDEO (./stand-in-processor.ts): the outcome is read from
 * the import's URL, since a test learns the video id only from the API's answer:
 * - a path containing `/status/404`: PROCESSING, then ERROR "The URL answered HTTP 404 Not Found, not a video.";
 * - a path containing `/stall`: PROCESSING and one PROGRESS, then silence until the client (the processor's
 *   object) closes the stream or the job is cancelled;
 * - anything else: 1000 bytes stored as the video's source object (the real S3 server), PROGRESS (half), then
 *   SUCCESS with `sizeBytes` 1000 and `contentType` video/mp4.
 */
import type http from "node:http";
import {
  importVideoErrorMessage,
  importVideoProcessingMessage,
  importVideoProgressMessage,
  importVideoSuccessMessage,
  type ImportVideoMessage,
} from "../../schema/messages/index.ts";
import { s3Uri, sourceObjectKey } from "../../schema/object-keys.ts";

/** Bytes the stand-in stores as an imported source. */
export const IMPORTED_BYTES = 1000;

/**
 * Streams the events of one import job on `res` (status and headers not yet sent).
 * @param putObject stores an object in the S3 server
 */
export async function runImport(
  job: ImportVideoMessage,
  res: http.ServerResponse,
  putObject: (bucket: string, key: string, body: Uint8Array, contentType: string) => Promise<void>,
): Promise<void> {
  const { videoId, userId, attempt, url } = job.payload;
  const ref = { videoId, userId, attempt };
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = async (value: unknown) => {
    res.write(JSON.stringify(value) + "\n");
    await new Promise((r) => setTimeout(r, 5));
  };
  await line(importVideoProcessingMessage(ref));
  const path = new URL(url).pathname;
  if (path.includes("/status/404")) {
    await line(importVideoErrorMessage({ ...ref, errorMessage: "The URL answered HTTP 404 Not Found, not a video.", errorDescription: `The URL (${url}) answered HTTP 404; only 200 is imported.` }));
    res.end();
    return;
  }
  if (path.includes("/stall")) {
    await line(importVideoProgressMessage({ ...ref, importedBytes: 100, totalBytes: null, fraction: null }));
    const timer = setTimeout(() => res.end(), 60_000);
    timer.unref();
    res.on("close", () => clearTimeout(timer));
    return;
  }
  const key = sourceObjectKey(userId, videoId);
  await putObject("vidsnap-videos", key, new Uint8Array(IMPORTED_BYTES), "video/mp4");
  await line(importVideoProgressMessage({ ...ref, importedBytes: IMPORTED_BYTES / 2, totalBytes: IMPORTED_BYTES, fraction: 0.5 }));
  res.end(JSON.stringify(importVideoSuccessMessage({ ...ref, sourceUri: s3Uri("vidsnap-videos", key), sizeBytes: IMPORTED_BYTES, contentType: "video/mp4" })));
}
