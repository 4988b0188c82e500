/**
 * Creates a generation (`POST /v1/generations`): a video VIDEO_GENERATION_PENDING (attempt 0, its id the
 * generation's) with `estimatedCompletionAt`, its `generations` row (the input, the callback token's hash, the
 * request's delivery state `pending`) and its first timeline event (job kind `generation`, source `user`), in one
 * D1 batch; then MSG_REQUEST_GENERATION on WEBHOOK_QUEUE, whose consumer sends the signed request to the
 * generator (./deliver-generation-request.ts). A `transcode` in the body creates the video's first transcode,
 * TRANSCODE_PENDING until the video is stored. A failed queue send deletes everything again (503).
 */
import { and, eq } from "drizzle-orm";
import { DEFAULT_GENERATION_ESTIMATED_SECONDS, type CreateGenerationRequest, type CreateGenerationResponse } from "../../../../schema/api.ts";
import { generations, videos } from "../../../../schema/db.ts";
import { DEFAULT_EXTRACTION_OPTIONS } from "../../../../schema/extraction-options.ts";
import { requestGenerationMessage } from "../../../../schema/messages/index.ts";
import { sourceObjectKey } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { G_PENDING } from "../../lifecycle/statuses.ts";
import { createdEvent, deleteVideoEvents } from "../../lifecycle/timeline.ts";
import { getGeneratorRow } from "../generators/get-generator.ts";
import { insertTranscode } from "../transcodes/create-transcode.ts";
import { toTranscode } from "../transcodes/serialize.ts";
import { toVideo } from "../videos/serialize.ts";
import { callbackToken, callbackTokenHash } from "./callback-token.ts";

/** Name of a generated video when the request gives no `title`. */
const DEFAULT_TITLE = "generation";
/** Content type recorded until the import tells the real one. */
const UNKNOWN_CONTENT_TYPE = "application/octet-stream";

/**
 * @param userId owner of the new video
 * @param input validated request body (`input` already ≤ 64 KB of JSON)
 * @returns the video (VIDEO_GENERATION_PENDING) and the transcode asked with it
 * @throws ProblemError `not-found` (404, no such generator for this user), `service-unavailable` (503, the
 *   queue send failed; nothing is kept)
 */
export async function createGeneration(deps: Deps, userId: string, input: CreateGenerationRequest): Promise<CreateGenerationResponse> {
  const generator = await getGeneratorRow(deps, userId, input.generator);
  const id = crypto.randomUUID();
  const now = new Date();
  const estimatedCompletionAt = new Date(now.getTime() + (input.estimatedSeconds ?? DEFAULT_GENERATION_ESTIMATED_SECONDS) * 1000);
  const filename = input.title ?? DEFAULT_TITLE;
  const [[row]] = await deps.db.batch([
    deps.db
      .insert(videos)
      .values({
        id,
        userId,
        filename,
        contentType: UNKNOWN_CONTENT_TYPE,
        sizeBytes: 0,
        status: G_PENDING,
        options: input.extraction ?? DEFAULT_EXTRACTION_OPTIONS,
        attempt: 0,
        sourceKey: sourceObjectKey(userId, id),
        estimatedCompletionAt,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    deps.db.insert(generations).values({
      id,
      userId,
      generatorId: generator.id,
      input: JSON.stringify(input.input),
      callbackTokenHash: await callbackTokenHash(await callbackToken(deps.config.betterAuthSecret, id)),
      createdAt: now,
      updatedAt: now,
    }),
    createdEvent(
      deps,
      { userId, videoId: id, jobKind: "generation", status: G_PENDING, attempt: 0 },
      { source: "user", message: `Generation asked of ${generator.name.slice(0, 100)}.` },
      now,
    ),
  ]);
  const transcode = input.transcode ? await insertTranscode(deps, row!, input.transcode, now) : undefined;
  try {
    await deps.env.WEBHOOK_QUEUE.send(requestGenerationMessage({ generationId: id, userId }));
  } catch (err) {
    // The generation row and transcodes cascade with the video.
    await deps.db.batch([deleteVideoEvents(deps, [id], userId), deps.db.delete(videos).where(and(eq(videos.id, id), eq(videos.userId, userId)))]);
    throw new ProblemError("service-unavailable", "The request queue is unavailable; ask the generation again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  deps.log.info("generation created", { videoId: id, generatorId: generator.id });
  return {
    video: toVideo(row!),
    ...(transcode ? { transcode: await toTranscode(deps, transcode, filename, deps.config.downloadUrlTtlSeconds) } : {}),
  };
}
