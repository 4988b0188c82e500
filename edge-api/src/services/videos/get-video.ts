/**
 * Reads one video of one user. Another user's video is indistinguishable from a missing one (404).
 */
import { and, eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import type { VideoRow } from "./serialize.ts";

/**
 * @returns the row owned by `userId`
 * @throws ProblemError `not-found` (404) when there is none
 */
export async function getVideoRow(deps: Deps, userId: string, videoId: string): Promise<VideoRow> {
  const row = await findVideoRow(deps, userId, videoId);
  if (!row) throw new ProblemError("not-found", `No video ${videoId}.`);
  return row;
}

/** @returns the row owned by `userId`, or undefined */
export async function findVideoRow(deps: Deps, userId: string, videoId: string): Promise<VideoRow | undefined> {
  const [row] = await deps.db
    .select()
    .from(videos)
    .where(and(eq(videos.id, videoId), eq(videos.userId, userId)))
    .limit(1);
  return row;
}
