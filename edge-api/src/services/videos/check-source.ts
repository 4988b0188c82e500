/**
 * The checks a video's uploaded object must pass before an extraction reads it, at `complete` and again at
 * every retry: it exists (409 `upload-incomplete`) with the declared size (409 `upload-size-mismatch`). Its
 * ETag is then recorded on the record (`source_etag`), and the processor reads the object only while it still
 * has that ETag (If-Match, issue 18 item 7): the upload URL stays valid after these checks, so the object
 * could be replaced before a job reads it. A retry records the object as it is then, checked the same way
 * (the owner may have uploaded corrected bytes through the same URL).
 */
import { and, eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import { ObjectEtag } from "../../../../schema/messages/extract-snapshot.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import type { VideoRow } from "./serialize.ts";
import { withStorage } from "./storage-problem.ts";

/**
 * @param row the video, in `status` (the update holds only while it still is)
 * @returns the row with its recorded `sourceEtag` (null when the store sent no usable ETag: reads are then
 *   unconditional, and a warning is logged)
 * @throws ProblemError `upload-incomplete` / `upload-size-mismatch` (409), `bad-gateway` (502, storage unreachable)
 */
export async function checkSource(deps: Deps, row: VideoRow, status: VideoRow["status"]): Promise<VideoRow> {
  const head = await withStorage("checking the upload", () => deps.storage.headObject(deps.config.videosBucket, row.sourceKey));
  if (!head) {
    throw new ProblemError("upload-incomplete", "The file has not been uploaded yet: PUT it to the upload URL first.");
  }
  if (head.sizeBytes !== row.sizeBytes) {
    throw new ProblemError("upload-size-mismatch", `The uploaded file is ${head.sizeBytes} bytes but ${row.sizeBytes} were declared.`);
  }
  // An ETag the store did not send, or one that could not travel as a header, leaves the read unconditional.
  const sourceEtag = head.etag && ObjectEtag.safeParse(head.etag).success ? head.etag : null;
  if (!sourceEtag) deps.log.warn("source object has no usable ETag; it will be read without If-Match", { videoId: row.id });
  await deps.db
    .update(videos)
    .set({ sourceEtag })
    .where(and(eq(videos.id, row.id), eq(videos.userId, row.userId), eq(videos.status, status)));
  return { ...row, sourceEtag };
}
