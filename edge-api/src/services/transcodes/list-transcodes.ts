/**
 * Lists the transcodes of one user's video, newest first (created_at desc, id desc), with the keyset
 * cursor of the video list (../videos/list-videos.ts).
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ListTranscodesQuery, TranscodeList } from "../../../../schema/api.ts";
import { transcodes } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { getVideoRow } from "../videos/get-video.ts";
import { decodeCursor, encodeCursor } from "../videos/list-videos.ts";
import { toTranscode } from "./serialize.ts";

/**
 * @param query validated query: `limit` 1..100, optional `cursor` and `status` filter
 * @returns one page and the cursor of the next (null on the last page)
 * @throws ProblemError `not-found` (404, no such video for this user), `validation` (400, bad cursor)
 */
export async function listTranscodes(deps: Deps, userId: string, videoId: string, query: ListTranscodesQuery): Promise<TranscodeList> {
  const video = await getVideoRow(deps, userId, videoId);
  const conditions: SQL[] = [eq(transcodes.videoId, video.id), eq(transcodes.userId, userId)];
  if (query.status) conditions.push(eq(transcodes.status, query.status));
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor);
    const at = new Date(cursor.c);
    conditions.push(or(lt(transcodes.createdAt, at), and(eq(transcodes.createdAt, at), lt(transcodes.id, cursor.i)))!);
  }
  const rows = await deps.db
    .select()
    .from(transcodes)
    .where(and(...conditions))
    .orderBy(desc(transcodes.createdAt), desc(transcodes.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: await Promise.all(page.map((row) => toTranscode(deps, row, video.filename, deps.config.downloadUrlTtlSeconds))),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt.getTime(), i: last.id }) : null,
  };
}
