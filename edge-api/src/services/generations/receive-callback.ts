/**
 * The generator's callback (`POST /v1/generations/{id}/callback`), authenticated by the generation's
 * callback token (./callback-token.ts), not by a user: the token's hash must match the row's, compared in
 * constant time. Rules:
 * - no such generation → 404 `not-found`; a missing, forged or other generation's token → 401 `unauthorized`;
 *   nothing changes;
 * - the first accepted callback (202): `ready` checks `url` with runtime/outgoing-url.ts (400 `validation`
 *   naming `url`, nothing changes) and turns the video into an import of it (../../lifecycle/generation.ts
 *   `startGeneratedImport`: the import, then the extraction and transcodes asked, as for `source: {url}`);
 *   `failed` ends it VIDEO_GENERATION_ERROR with the generator's error (cut to MAX_GENERATOR_ERROR_CHARS) and
 *   the error email; `callback_at` is then set;
 * - a repeated callback (callback_at set, or the timeline shows an accepted one when the Worker stopped before
 *   stamping callback_at) changes nothing and answers 200 with the current video, whatever its body (a `ready`
 *   whose import could not be queued is queued now);
 * - a generation that already ended without a callback (timed out, or its request failed) → 409 `conflict`.
 */
import { and, eq, isNull } from "drizzle-orm";
import { checkOutgoingUrl } from "../../../../runtime/outgoing-url.ts";
import { MAX_GENERATOR_ERROR_CHARS, type GenerationCallbackRequest, type Video } from "../../../../schema/api.ts";
import { generations, videoEvents, videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { failGeneration, queueGeneratedImport, startGeneratedImport } from "../../lifecycle/generation.ts";
import { G_PENDING, I_QUEUED } from "../../lifecycle/statuses.ts";
import { QueueSendError } from "../../lifecycle/transitions.ts";
import { toVideo, type VideoRow } from "../videos/serialize.ts";
import { callbackTokenMatches } from "./callback-token.ts";

/** What the route answers: 202 for the callback that changed the video, 200 for a repeated one. */
export interface CallbackAnswer {
  status: 200 | 202;
  video: Video;
}

/**
 * @param token the `vidsnap-callback-token` header (undefined when absent)
 * @throws ProblemError 401, 404, 409, 400 as above; 503 `service-unavailable` when the import could not be
 *   queued (the generator calls again: the repeat queues it)
 */
export async function receiveGenerationCallback(
  deps: Deps,
  generationId: string,
  token: string | undefined,
  body: GenerationCallbackRequest,
): Promise<CallbackAnswer> {
  const [gen] = await deps.db.select().from(generations).where(eq(generations.id, generationId)).limit(1);
  if (!gen) throw new ProblemError("not-found", `No generation ${generationId}.`);
  if (!token || !(await callbackTokenMatches(token, gen.callbackTokenHash))) {
    throw new ProblemError("unauthorized", "The callback token is missing or is not this generation's.");
  }
  const ref = { id: gen.id, userId: gen.userId };
  const log = deps.log.child({ videoId: gen.id });
  const read = async (): Promise<VideoRow> => {
    const [row] = await deps.db.select().from(videos).where(and(eq(videos.id, ref.id), eq(videos.userId, ref.userId))).limit(1);
    if (!row) throw new ProblemError("not-found", `No generation ${generationId}.`);
    return row;
  };

  if (gen.callbackAt) return { status: 200, video: toVideo(await repeated(deps, await read())) };
  let row = await read();
  const now = new Date();
  if (row.status !== G_PENDING) {
    // The Worker may have stopped between the status change and the callback_at stamp: the timeline, written
    // in the status change's own batch, says whether a callback was accepted.
    if (!(await callbackAccepted(deps, ref))) throw ended(row);
    await markCalledBack(deps, gen.id, now);
    return { status: 200, video: toVideo(await repeated(deps, row)) };
  }

  let changed: VideoRow | undefined;
  if (body.status === "ready") {
    const checked = checkOutgoingUrl(body.url ?? "", deps.config.environment);
    if (!checked.ok) {
      throw new ProblemError("validation", `The video URL is refused: it ${checked.reason}.`, { errors: [{ path: "url", message: checked.reason }] });
    }
    try {
      changed = await startGeneratedImport(deps, ref, checked.url, now);
    } catch (err) {
      if (!(err instanceof QueueSendError)) throw err;
      await markCalledBack(deps, gen.id, now);
      throw new ProblemError("service-unavailable", "The import queue is unavailable; send the callback again shortly.", {
        headers: { "retry-after": "5" },
        cause: err,
      });
    }
    log.info("generation ready", { host: new URL(checked.url).host, metadata: JSON.stringify(body.metadata ?? {}).slice(0, 500) });
  } else {
    const error = (body.error ?? "").trim().slice(0, MAX_GENERATOR_ERROR_CHARS);
    changed = await failGeneration(
      deps,
      ref,
      { source: "generator", errorMessage: "The generator reported a failure.", errorDescription: error || "(the generator gave no error)" },
      now,
    );
  }
  if (!changed) {
    // Another callback or the cron got there first: answer as they left it.
    row = await read();
    if (await callbackAccepted(deps, ref)) return { status: 200, video: toVideo(row) };
    throw ended(row);
  }
  await markCalledBack(deps, gen.id, now);
  return { status: 202, video: toVideo(changed) };
}

/**
 * True when a callback of this generation was accepted: its video's timeline holds the change out of
 * VIDEO_GENERATION_PENDING that a callback makes (source `generator`), recorded in the same D1 batch as the
 * status change, unlike `callback_at`, which is stamped after it.
 */
async function callbackAccepted(deps: Deps, ref: { id: string; userId: string }): Promise<boolean> {
  const [event] = await deps.db
    .select({ id: videoEvents.id })
    .from(videoEvents)
    .where(and(eq(videoEvents.videoId, ref.id), eq(videoEvents.userId, ref.userId), eq(videoEvents.fromStatus, G_PENDING), eq(videoEvents.source, "generator")))
    .limit(1);
  return event !== undefined;
}

/** Stamps the first accepted callback (later ones are repeats). */
async function markCalledBack(deps: Deps, id: string, now: Date): Promise<void> {
  await deps.db.update(generations).set({ callbackAt: now, updatedAt: now }).where(and(eq(generations.id, id), isNull(generations.callbackAt)));
}

/** A repeated callback: nothing changes, except queueing an import whose first send failed. */
async function repeated(deps: Deps, row: VideoRow): Promise<VideoRow> {
  if (row.status !== I_QUEUED || row.attempt !== 0) return row;
  try {
    return (await queueGeneratedImport(deps, row)) ?? row;
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    throw new ProblemError("service-unavailable", "The import queue is unavailable; send the callback again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
}

/** 409 for a generation that ended before any callback. */
function ended(row: VideoRow): ProblemError {
  return new ProblemError("conflict", `The generation already ended (${row.status}): ${row.errorMessage ?? "no callback is accepted any more"}`);
}
