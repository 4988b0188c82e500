/**
 * A job kind: what the generic transitions (./transitions.ts, ./record-event.ts, ./leases.ts) need to know
 * about one kind of job run by the processor. Each kind has its own table; the lifecycle columns of that
 * table carry the same names in every kind ({@link JobRow}), the rest is the kind's own business
 * (its progress and output columns, its messages, its notification).
 */
import type { SQL } from "drizzle-orm";
import type { z } from "zod";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Config, Env } from "../env.ts";
import type { Deps } from "../context.ts";
import type { TimelineJobKind } from "../../../schema/timeline.ts";
import type { JobStorageScopes } from "../../../schema/storage-credentials.ts";

/** The lifecycle columns every job table has, by their drizzle property names. */
export interface JobRow {
  id: string;
  /** Owner; every update is scoped to it. */
  userId: string;
  status: string;
  /** Run number of the job, 0 before the first one is queued. */
  attempt: number;
  /**
   * Automatic re-queues of the job: after an expired lease (the cron) or a transient fault (a retryable
   * ERROR); back to 0 when a user queues it.
   */
  recoveries: number;
  /** Deadline of a queued or processing attempt (null otherwise). */
  leaseExpiresAt: Date | null;
  queuedAt: Date | null;
  processingStartedAt: Date | null;
  completedAt: Date | null;
  updatedAt: Date;
}

/** A drizzle table with the {@link JobRow} columns. */
export type JobTable = SQLiteTable & { [K in keyof JobRow]: SQLiteColumn };

/** Where a kind's changes land in the video's timeline (./timeline.ts). */
export interface TimelineRef {
  jobKind: TimelineJobKind;
  /** Column holding the video id (the row's own id for the extraction). */
  videoId: SQLiteColumn;
  /** Column holding the job id; absent for the video's own jobs (stored as ''). */
  jobId?: SQLiteColumn;
}

/**
 * What a guarded status change of a record needs (./transitions.ts `updateJob`, ./timeline.ts `changeEvent`):
 * its table and where its changes land in the timeline. Every {@link JobKind} is one; so is a record whose
 * statuses are not a processor job's (a generation, ./generation.ts).
 */
export type RecordKind = Pick<JobKind<JobRow, unknown, unknown>, "table" | "timeline">;

/** Identifies one attempt of one job. */
export interface AttemptRef {
  id: string;
  userId: string;
  attempt: number;
  /** Id of the record the job belongs to when it is not its own row (a transcode's video); its object keys depend on it. */
  parentId?: string;
}

/** What a processor event does to its attempt: keeps it running, or ends it. */
export type EventPhase = "processing" | "progress" | "success" | "error";

/** Column values of an update: plain values or SQL expressions, by drizzle property name. */
export type ColumnValues = Record<string, unknown | SQL>;

/**
 * @typeParam Row the table's row type
 * @typeParam Event the processor events of the kind (PROCESSING, PROGRESS, SUCCESS, ERROR)
 * @typeParam Job the queue message that runs one attempt
 */
export interface JobKind<Row extends JobRow, Event, Job> {
  /** Name in logs, e.g. `extract`. */
  name: string;
  table: JobTable;
  timeline: TimelineRef;
  statuses: {
    /** The first attempt is queued from this status. */
    start: string;
    queued: string;
    processing: string;
    success: string;
    error: string;
  };
  /**
   * The kind's columns an attempt writes (progress, results, error), each with its empty value: cleared
   * whenever an attempt is queued, restored when that queueing is reverted.
   */
  attemptColumns: ColumnValues;
  /** Schemas of the job message and of the events, validated on every queue message and NDJSON line. */
  schemas: { job: z.ZodType<Job>; event: z.ZodType<Event> };
  /** The queue that runs attempts, and the message of a row's current attempt (`config` for limits the job carries). */
  queue(env: Env): Queue<Job>;
  jobMessage(row: Row, config: Config): Job;
  /** The attempt a job message runs. */
  jobRef(job: Job): AttemptRef;
  /** The queue the processor's events travel on (the job consumer relays them there). */
  eventQueue(env: Env): Queue<Event>;
  /** The attempt an event belongs to, and its phase. */
  eventRef(event: Event): AttemptRef;
  eventPhase(event: Event): EventPhase;
  /** Who sent an event (its envelope's `sender`) and its human sentence (an ERROR's `errorMessage`), for the timeline. */
  eventNote(event: Event): { sender: string; message: string | null };
  /**
   * True for an ERROR event that reports a transient fault (`retryable: true`: the storage unavailable, the
   * processor shutting down): the attempt is re-queued with backoff while the retry budget lasts.
   */
  eventRetryable(event: Event): boolean;
  /**
   * The kind's columns an event sets besides status, lease and times.
   * @throws Error when the event cannot be applied (e.g. an object URI that does not parse)
   */
  eventColumns(deps: Deps, event: Event, now: Date): ColumnValues;
  /**
   * An ERROR event the API writes on the processor's behalf (sender API_SERVICE); `opts.retryable` for a
   * transient fault (e.g. the processor unreachable) that should go through the retry budget.
   */
  errorEvent(ref: AttemptRef, errorMessage: string, errorDescription: string, opts?: { retryable?: boolean }): Event;
  /** errorDescription of a job failed by the cron after `recoveries` re-queues. */
  leaseExpiredDescription(recoveries: number): string;
  /**
   * What one attempt may touch in storage: the scopes of the temporary credentials minted for it at each
   * dispatch (../storage/temp-credentials.ts; docs/architecture.md "Storage credentials"). `read`: the source,
   * read-only; `write`: exactly the attempt's outputs (objects, or its attempt prefix), read-write.
   */
  storageScopes(ref: AttemptRef, config: Config): JobStorageScopes;
  /**
   * Wall-clock limit of one attempt on the processor, seconds (the container's own limit of the kind comes
   * from the same variable): its credentials live this long plus a margin.
   */
  timeoutSeconds(config: Config): number;
  outputs: {
    bucket(config: Config): string;
    /** Object keys one attempt writes (deleted when a later attempt ends or the job is deleted). */
    keys(ref: AttemptRef): string[];
    /** Prefix every output key of the job starts with (a late SUCCESS never deletes outside it). */
    prefix(ref: Omit<AttemptRef, "attempt">): string;
    /** Object URIs a SUCCESS event points to. */
    ofEvent(event: Event): string[];
    /**
     * Optional: a prefix every object of one attempt lies under, for kinds whose keys are not all known in
     * advance (HLS segments). Superseded attempts and a deleted job's late output are then also deleted by
     * listing this prefix (it must start with `prefix`).
     */
    attemptPrefix?(ref: AttemptRef): string;
  };
  /**
   * Tells the owner an attempt ended (sent again for a redelivered final event: receivers deduplicate).
   * @throws whatever the queues throw (the caller retries the event)
   */
  notify(deps: Deps, row: Row): Promise<void>;
}
