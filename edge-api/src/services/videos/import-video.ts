/**
 * Creates a video imported by URL (`POST /v1/videos` with `source: {url}`) and queues its download, the
 * import job kind (../../lifecycle/import-job.ts) run by the processor.
 *
 * Rules: the URL passes runtime/outgoing-url.ts `checkOutgoingUrl` now (400 `validation` naming
 * `source.url`; the processor checks it again with every resolved address and redirect); the record is
 * inserted VIDEO_IMPORT_QUEUED at attempt 0 with the URL, then the lifecycle queues attempt 1. A `transcode`
 * in the body creates the video's first transcode, TRANSCODE_PENDING until the import is stored. A failed
 * queue send deletes the record again (it was never answered) and answers 503.
 */
import { and, eq } from "drizzle-orm";
import { checkOutgoingUrl } from "../../../../runtime/outgoing-url.ts";
import type { ImportVideoRequest, ImportVideoResponse } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import { DEFAULT_EXTRACTION_OPTIONS } from "../../../../schema/extraction-options.ts";
import { sourceObjectKey } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { importJob } from "../../lifecycle/import-job.ts";
import { I_QUEUED } from "../../lifecycle/statuses.ts";
import { createdEvent, deleteVideoEvents } from "../../lifecycle/timeline.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { insertTranscode } from "../transcodes/create-transcode.ts";
import { toTranscode } from "../transcodes/serialize.ts";
import { toVideo } from "./serialize.ts";

/** Content type recorded until the import tells the real one. */
const UNKNOWN_CONTENT_TYPE = "application/octet-stream";

/**
 * The name shown for an imported video: the last segment of the URL's path (decoded, without characters a
 * file name may not hold), else `import`.
 * @param url a URL accepted by `checkOutgoingUrl`
 */
export function importFilename(url: string): string {
  const last = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "";
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // keep the encoded form
  }
  name = name.replace(/[/\\\u0000-\u001f\u007f]/g, "").trim().slice(0, 255);
  return name || "import";
}

/**
 * @param userId owner of the new video
 * @param input validated request body
 * @returns the video (VIDEO_IMPORT_QUEUED, attempt 1) and the transcode asked with it
 * @throws ProblemError `validation` (400, the URL is refused), `service-unavailable` (503, the queue send failed)
 */
export async function importVideo(deps: Deps, userId: string, input: ImportVideoRequest): Promise<ImportVideoResponse> {
  const checked = checkOutgoingUrl(input.source.url, deps.config.environment);
  if (!checked.ok) {
    throw new ProblemError("validation", `The source URL is refused: it ${checked.reason}.`, {
      errors: [{ path: "source.url", message: checked.reason }],
    });
  }
  const id = crypto.randomUUID();
  const now = new Date();
  const filename = input.filename ?? importFilename(checked.url);
  const [[row]] = await deps.db.batch([
    deps.db
      .insert(videos)
      .values({
        id,
        userId,
        filename,
        contentType: UNKNOWN_CONTENT_TYPE,
        // Unknown until the import is stored (its SUCCESS event sets the stored size).
        sizeBytes: 0,
        status: I_QUEUED,
        options: input.options ?? DEFAULT_EXTRACTION_OPTIONS,
        attempt: 0,
        sourceKey: sourceObjectKey(userId, id),
        sourceUrl: checked.url,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    createdEvent(deps, { userId, videoId: id, jobKind: "import", status: I_QUEUED, attempt: 0 }, { source: "user" }, now),
  ]);
  const transcode = input.transcode ? await insertTranscode(deps, row!, input.transcode, now) : undefined;

  let queued;
  try {
    queued = await queueAttempt(deps, importJob, row!, "start", now);
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    await deps.db.batch([deleteVideoEvents(deps, [id], userId), deps.db.delete(videos).where(and(eq(videos.id, id), eq(videos.userId, userId)))]);
    throw new ProblemError("service-unavailable", "The job queue is unavailable; send the import again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  deps.log.info("video import created", { videoId: id, host: new URL(checked.url).host });
  return {
    video: toVideo(queued ?? row!),
    ...(transcode ? { transcode: await toTranscode(deps, transcode, filename, deps.config.downloadUrlTtlSeconds) } : {}),
  };
}
