/**
 * Claim-and-lease delivery rows in D1, the one mechanism behind outgoing emails and webhooks. Each thing to
 * deliver has a row; a sender claims it before sending, so that duplicate queue messages never send at the
 * same time nor after a success, and settles it after: sent, failed for good, or failed with a next try.
 * A claim holds a bounded lease, so the row of a sender that crashed mid-send can be taken over once the lease
 * has run out.
 *
 * Claims are compare-and-set updates (`UPDATE … WHERE <claimable> RETURNING`): two concurrent claims cannot
 * both win. Without an idempotency key on the receiving side one duplicate window remains: the send went
 * out but the sender died before settling the row; the next claim after the lease sends again. We accept
 * that rather than risk never sending.
 */
import { and, getTableColumns, notInArray, or, sql, type SQL } from "drizzle-orm";
import type { BaseSQLiteDatabase, SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";

/** Any drizzle database over D1, with or without a schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the store never reads the schema
export type DeliveryDb = BaseSQLiteDatabase<"async", any, any>;

/** A column of `T`, by its property name. */
type ColumnKey<T extends SQLiteTable> = keyof T["_"]["columns"] & keyof T["$inferSelect"] & string;

/** Columns to write: values, or SQL computed by D1 (e.g. appending to a JSON log). */
type Values<T extends SQLiteTable> = { [C in keyof T["$inferInsert"]]?: T["$inferInsert"][C] | SQL };

/** The statuses of a table's status column. */
type StatusOf<T extends SQLiteTable, K extends ColumnKey<T>> = Extract<T["$inferSelect"][K], string>;

/**
 * How a table keeps its deliveries. Every column named here must hold epoch milliseconds
 * (`integer({ mode: "timestamp_ms" })`) when it is a time.
 */
export interface DeliveryTable<T extends SQLiteTable, K extends ColumnKey<T>> {
  table: T;
  /** The status column. */
  status: K;
  /** Statuses after which nothing is sent again: a claim answers `done`, a settlement leaves the row alone. */
  final: readonly StatusOf<T, K>[];
  /** Status of a row whose send succeeded. */
  sent: StatusOf<T, K>;
  /** Status of a row whose send failed and will be tried again. */
  retry: StatusOf<T, K>;
  /** Status of a row given up on. */
  failed: StatusOf<T, K>;
  /**
   * Where a claim's lease is stored: `until`, a column holding its end (null: nobody holds the row), or
   * `since`, a time column stamped by the claim while the row is in `status` (the lease ends `leaseMs` later).
   */
  lease: { until: ColumnKey<T> } | { since: ColumnKey<T>; status: StatusOf<T, K> };
  /** The time column of the last change. */
  updatedAt: ColumnKey<T>;
  /** The column of the last failure's message, and its length limit (characters). */
  lastError: ColumnKey<T>;
  maxErrorLength: number;
  /** The time column of the next try, when the table keeps one (set on retry, cleared otherwise). */
  nextTryAt?: ColumnKey<T>;
}

/** What {@link DeliveryStore.claim} found. */
export type Claim<Row, Status> =
  /** This sender holds the row (as it is after the claim) and must send. */
  | { kind: "claimed"; row: Row }
  /** The row is settled for good: send nothing. */
  | { kind: "done"; status: Status }
  /** Another sender holds a live lease: come back after `retryAfterSeconds` (1 s up to the lease). */
  | { kind: "in-flight"; retryAfterSeconds: number }
  /** No such row. */
  | { kind: "gone" };

/** How a send ended: `retryAt` set (and the table has a retry status) leaves the row open for another try. */
export type Settlement = { sent: true } | { sent: false; error: string; retryAt?: Date | null };

export interface DeliveryStore<T extends SQLiteTable, Status> {
  /**
   * Claims one row: inserts it when `insert` is given and no row exists yet, otherwise takes it over when
   * it is neither final nor under a live lease.
   * @param where selects exactly the one row (its id, or its unique key)
   * @param opts.insert columns of a new row besides `values` (id, unique key); without it rows must exist
   * @param opts.values columns written by the claim (content to store; may set a final status, which claims
   *   and settles in one write)
   * @param opts.leaseMs how long the claim keeps other senders off the row, ms
   * @param opts.now the clock (default: now)
   */
  claim(
    db: DeliveryDb,
    where: SQL,
    opts: { insert?: Values<T>; values?: Values<T>; leaseMs: number; now?: Date },
  ): Promise<Claim<T["$inferSelect"], Status>>;
  /**
   * Records how a send ended and releases the lease; rows already final are left as they are.
   * @param opts.values further columns to write (provider id, response status, try log…)
   * @returns whether a row was settled
   */
  settle(
    db: DeliveryDb,
    where: SQL,
    settlement: Settlement,
    opts?: { values?: Values<T>; now?: Date },
  ): Promise<boolean>;
  /** @returns the row `where` selects, or undefined */
  find(db: DeliveryDb, where: SQL): Promise<T["$inferSelect"] | undefined>;
}

/** @returns the store of the deliveries kept as `desc` describes */
export function deliveryStore<T extends SQLiteTable, K extends ColumnKey<T>>(
  desc: DeliveryTable<T, K>,
): DeliveryStore<T, StatusOf<T, K>> {
  type Row = T["$inferSelect"];
  type Status = StatusOf<T, K>;
  const columns = getTableColumns(desc.table) as Record<string, SQLiteColumn>;
  const column = (key: string) => columns[key]!;
  const status = column(desc.status);
  const final: string[] = [...desc.final];
  const lease = desc.lease;

  /** SQL of the lease's end (epoch ms), null when nobody holds the row. */
  const leaseEnd = (leaseMs: number): SQL =>
    "until" in lease
      ? sql`${column(lease.until)}`
      : sql`(CASE WHEN ${status} = ${lease.status} THEN ${column(lease.since)} + ${leaseMs} END)`;

  /** Columns that take the lease. */
  const take = (now: Date, leaseMs: number): Record<string, unknown> =>
    "until" in lease
      ? { [lease.until]: new Date(now.getTime() + leaseMs) }
      : { [desc.status]: lease.status, [lease.since]: now };

  const claimable = (leaseMs: number, now: Date): SQL =>
    and(
      notInArray(status, final),
      or(sql`${leaseEnd(leaseMs)} IS NULL`, sql`${leaseEnd(leaseMs)} <= ${now.getTime()}`),
    )!;

  return {
    async claim(db, where, { insert, values = {}, leaseMs, now = new Date() }) {
      if (insert) {
        const [created] = (await db
          .insert(desc.table)
          .values({ ...insert, ...take(now, leaseMs), ...values } as never)
          .onConflictDoNothing()
          .returning()) as Row[];
        if (created) return { kind: "claimed", row: created };
      }
      const [taken] = (await db
        .update(desc.table)
        .set({ ...take(now, leaseMs), ...values } as never)
        .where(and(where, claimable(leaseMs, now)))
        .returning()) as Row[];
      if (taken) return { kind: "claimed", row: taken };

      // Lost the race, or the lease is live: look again to tell "finished meanwhile" from "in flight".
      const [current] = await db
        .select({ status: sql<Status>`${status}`, leaseEnd: sql<number | null>`${leaseEnd(leaseMs)}` })
        .from(desc.table as SQLiteTable)
        .where(where)
        .limit(1);
      if (!current) return { kind: "gone" };
      if (final.includes(current.status)) return { kind: "done", status: current.status };
      const remaining = Math.ceil(((current.leaseEnd ?? now.getTime()) - now.getTime()) / 1000);
      return { kind: "in-flight", retryAfterSeconds: Math.min(Math.max(remaining, 1), Math.ceil(leaseMs / 1000)) };
    },

    async settle(db, where, settlement, { values = {}, now = new Date() } = {}) {
      const retryAt = settlement.sent ? null : (settlement.retryAt ?? null);
      const set: Record<string, unknown> = {
        [desc.status]: settlement.sent ? desc.sent : retryAt ? desc.retry : desc.failed,
        [desc.lastError]: settlement.sent ? null : settlement.error.slice(0, desc.maxErrorLength),
        [desc.updatedAt]: now,
        ...("until" in lease ? { [lease.until]: null } : {}),
        ...(desc.nextTryAt ? { [desc.nextTryAt]: retryAt } : {}),
        ...values,
      };
      const settled = await db
        .update(desc.table)
        .set(set as never)
        .where(and(where, notInArray(status, final)))
        .returning({ status });
      return settled.length > 0;
    },

    async find(db, where) {
      const [row] = (await db.select().from(desc.table as SQLiteTable).where(where).limit(1)) as Row[];
      return row;
    },
  };
}
