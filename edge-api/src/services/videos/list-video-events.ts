/**
 * Lists the timeline of one user's video (`video_events`, written by ../../lifecycle/timeline.ts), newest
 * first (created_at desc, id desc), with the keyset cursor of the video list (./list-videos.ts): `c` the
 * event's time in ms, `i` its id as a string.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ListVideoEventsQuery, VideoEvent, VideoEventList } from "../../../../schema/api.ts";
import { videoEvents } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { getVideoRow } from "./get-video.ts";
import { decodeCursor, encodeCursor } from "./list-videos.ts";

type VideoEventRow = typeof videoEvents.$inferSelect;

/**
 * @param query validated query: `limit` 1..100, optional `cursor`
 * @returns one page and the cursor of the next (null on the last page)
 * @throws ProblemError `not-found` (404, no such video for this user), `validation` (400, bad cursor)
 */
export async function listVideoEvents(deps: Deps, userId: string, videoId: string, query: ListVideoEventsQuery): Promise<VideoEventList> {
  const video = await getVideoRow(deps, userId, videoId);
  const conditions: SQL[] = [eq(videoEvents.videoId, video.id), eq(videoEvents.userId, userId)];
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor);
    const id = Number(cursor.i);
    if (!/^[0-9]{1,15}$/.test(cursor.i) || !Number.isSafeInteger(id)) {
      throw new ProblemError("validation", "The cursor is not valid; use `nextCursor` of a previous page.", {
        errors: [{ path: "cursor", message: "invalid cursor" }],
      });
    }
    const at = new Date(cursor.c);
    conditions.push(or(lt(videoEvents.createdAt, at), and(eq(videoEvents.createdAt, at), lt(videoEvents.id, id)))!);
  }
  const rows = await deps.db
    .select()
    .from(videoEvents)
    .where(and(...conditions))
    .orderBy(desc(videoEvents.createdAt), desc(videoEvents.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toVideoEvent),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt.getTime(), i: String(last.id) }) : null,
  };
}

/** The API shape of a timeline row. */
function toVideoEvent(row: VideoEventRow): VideoEvent {
  return {
    id: row.id,
    jobKind: row.jobKind,
    jobId: row.jobId,
    attempt: row.attempt,
    fromStatus: row.fromStatus,
    toStatus: row.toStatus,
    source: row.source,
    message: row.message,
    createdAt: row.createdAt.toISOString(),
  };
}
