/**
 * Builds the MSG_EXTRACT_SNAPSHOT envelope (schema/messages/extract-snapshot.ts) of a record's current attempt.
 */
import { ExtractionOptions } from "../../../../schema/extraction-options.ts";
import type { ExtractSnapshotMessage } from "../../../../schema/messages/index.ts";
import type { VideoRow } from "./serialize.ts";

/** @param row a record whose `attempt` is ≥ 1 (queued) */
export function buildExtractMessage(row: VideoRow): ExtractSnapshotMessage {
  return {
    type: "MSG_EXTRACT_SNAPSHOT",
    sender: "VIDEO_API_SERVICE",
    target: "VIDEO_IMAGE_PROCESSOR_SERVICE",
    payload: {
      videoId: row.id,
      userId: row.userId,
      attempt: row.attempt,
      options: ExtractionOptions.parse(row.options),
    },
  };
}
