/**
 * Every job kind the processor runs, by `JobKind.name`: the processor's Durable Object receives a kind's
 * name with each job to dispatch (processor/index.ts) and finds here how to check and relay its events.
 */
import { extractJob } from "./extract-job.ts";
import { importJob } from "./import-job.ts";
import { transcodeJob } from "./transcode-job.ts";
import type { JobKind, JobRow } from "./job-kind.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own row, event and job types
export const JOB_KINDS: Readonly<Record<string, JobKind<any, any, any>>> = Object.fromEntries(
  [extractJob, transcodeJob, importJob].map((kind) => [kind.name, kind]),
);

/** @throws Error for a name no kind has (a programming error: names come from the kinds themselves) */
export function jobKindNamed(name: string): JobKind<JobRow, unknown, unknown> {
  const kind = JOB_KINDS[name];
  if (!kind) throw new Error(`unknown job kind: ${name}`);
  return kind;
}
