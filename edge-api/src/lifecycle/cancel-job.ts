/**
 * Asks the processor to stop a running job whose record is gone (a transcode deleted, or the video it
 * belongs to): `DELETE /jobs/{id}%23{attempt}` (the job key `{id}#{attempt}`, percent-encoded in the path),
 * signed and routed like the job itself (../processor/index.ts, routing key = the job's id, so it reaches
 * the container instance running it). Best effort: the record is already deleted, so a job the processor
 * does not stop is fenced off anyway (its events find no record; a late SUCCESS has its output deleted,
 * ./record-event.ts).
 */
import type { Deps } from "../context.ts";
import { getProcessor } from "../processor/index.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { AttemptRef } from "./job-kind.ts";

/** How long the cancel request may take, ms. */
const CANCEL_TIMEOUT_MS = 5_000;

/** Outcome of a cancel request: stopped there, not running there (404), or not answered as expected. */
export type CancelOutcome = "cancelled" | "not-running" | "failed";

/** Path of the processor's cancel route for one job attempt. */
export function cancelPath(ref: Pick<AttemptRef, "id" | "attempt">): string {
  return `/jobs/${encodeURIComponent(`${ref.id}#${ref.attempt}`)}`;
}

/** @returns what the processor answered; never throws (failures are logged) */
export async function cancelProcessorJob(deps: Deps, ref: Pick<AttemptRef, "id" | "attempt">): Promise<CancelOutcome> {
  try {
    const res = await getProcessor(deps.env, deps.config, ref.id).fetch(
      new Request(`http://processor${cancelPath(ref)}`, { method: "DELETE", signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) }),
    );
    await res.body?.cancel();
    if (res.status === 404) return "not-running";
    if (res.ok) {
      deps.log.info("processor job cancelled", { id: ref.id, attempt: ref.attempt });
      return "cancelled";
    }
    deps.log.warn("processor refused the cancel request", { id: ref.id, attempt: ref.attempt, status: res.status });
    return "failed";
  } catch (err) {
    deps.log.warn("processor cancel request failed", { id: ref.id, attempt: ref.attempt, ...errorFields(err) });
    return "failed";
  }
}
