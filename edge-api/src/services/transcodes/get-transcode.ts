/**
 * Reads one transcode of one user's video. Another user's video or transcode, or a transcode of another
 * video, is indistinguishable from a missing one (404).
 */
import { and, eq } from "drizzle-orm";
import { transcodes } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import type { TranscodeRow } from "./serialize.ts";

/**
 * @returns the row of transcode `transcodeId` of video `videoId`, owned by `userId`
 * @throws ProblemError `not-found` (404) when there is none
 */
export async function getTranscodeRow(deps: Deps, userId: string, videoId: string, transcodeId: string): Promise<TranscodeRow> {
  const [row] = await deps.db
    .select()
    .from(transcodes)
    .where(and(eq(transcodes.id, transcodeId), eq(transcodes.videoId, videoId), eq(transcodes.userId, userId)))
    .limit(1);
  if (!row) throw new ProblemError("not-found", `No transcode ${transcodeId} of video ${videoId}.`);
  return row;
}
