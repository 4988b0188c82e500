/**
 * D1 tables (drizzle-orm, SQLite dialect). Migrations in `schema/migrations/` are generated from this
 * file with `npm run db:generate` and applied by `wrangler d1 migrations apply`.
 *
 * `user`, `session`, `account`, `verification` follow better-auth's core schema
 * (https://www.better-auth.com/docs/concepts/database#core-schema); times are stored as epoch
 * milliseconds (`integer({ mode: "timestamp_ms" })`).
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { VideoStatus } from "./video-status.ts";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);
const updatedAt = () =>
  integer("updated_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

export const user = sqliteTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
  image: text("image"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const session = sqliteTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    token: text("token").notNull().unique(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
  },
  (t) => [index("session_user_id_idx").on(t.userId)],
);

export const account = sqliteTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: integer("access_token_expires_at", { mode: "timestamp_ms" }),
    refreshTokenExpiresAt: integer("refresh_token_expires_at", { mode: "timestamp_ms" }),
    scope: text("scope"),
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("account_user_id_idx").on(t.userId)],
);

export const verification = sqliteTable(
  "verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("verification_identifier_idx").on(t.identifier)],
);

/** One uploaded video and the state of its latest extraction attempt. */
export const videos = sqliteTable(
  "videos",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    filename: text("filename").notNull(),
    contentType: text("content_type").notNull(),
    /** Size the client declared and the presigned PUT is bound to, bytes. */
    sizeBytes: integer("size_bytes").notNull(),
    status: text("status").$type<VideoStatus>().notNull(),
    /** JSON of ExtractionOptions. */
    options: text("options", { mode: "json" }).notNull(),
    /** Current extraction attempt; 0 until the upload is completed. */
    attempt: integer("attempt").notNull().default(0),
    sourceKey: text("source_key").notNull(),
    archiveKey: text("archive_key"),
    manifestKey: text("manifest_key"),
    /** 0..1 share of the duration processed, null when unknown. */
    progress: real("progress"),
    imageCount: integer("image_count"),
    zipSizeBytes: integer("zip_size_bytes"),
    durationSeconds: real("duration_seconds"),
    errorMessage: text("error_message"),
    errorDescription: text("error_description"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    queuedAt: integer("queued_at", { mode: "timestamp_ms" }),
    processingStartedAt: integer("processing_started_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    /**
     * Deadline of the current attempt while it is QUEUED or PROCESSING, epoch ms (docs/architecture.md,
     * "Leases"): now + JOB_LEASE_SECONDS when the attempt is queued, now + PROCESSING_LEASE_SECONDS on every
     * PROCESSING event of that attempt, null once it ends. The cron re-queues (or fails) attempts past it.
     */
    leaseExpiresAt: integer("lease_expires_at", { mode: "timestamp_ms" }),
    /** Times the cron re-queued this video because its lease expired; back to 0 on a user's retry. */
    recoveries: integer("recoveries").notNull().default(0),
  },
  (t) => [
    index("videos_user_created_idx").on(t.userId, t.createdAt, t.id),
    // The lease sweep (cron) scans `lease_expires_at < ?`, oldest first; only active attempts have one.
    index("videos_lease_expires_idx").on(t.leaseExpiresAt),
    // The stale-upload cleanup (cron) scans `status = VIDEO_UPLOAD_PENDING AND created_at < ?`, oldest first.
    index("videos_status_created_idx").on(t.status, t.createdAt),
  ],
);

/**
 * Objects still to remove from the buckets after a video record was deleted (`DELETE /v1/videos/{id}`) or
 * expired (stale upload cleanup). A row is written in the same D1 batch (one transaction) as the deletion
 * of the video record and removed once every object is gone, so a storage failure leaves a row that the
 * cron sweep (`purgeVideoObjects`) retries instead of orphaned objects. Keys follow schema/object-keys.ts:
 * the source, and the archive and manifest of every attempt 1..attempt.
 */
export const videoDeletions = sqliteTable(
  "video_deletions",
  {
    /** Id of the deleted video (no foreign key: the record is gone). */
    videoId: text("video_id").primaryKey(),
    userId: text("user_id").notNull(),
    /** Last extraction attempt of the video when it was deleted; 0 = never queued. */
    attempt: integer("attempt").notNull(),
    sourceKey: text("source_key").notNull(),
    archiveKey: text("archive_key"),
    manifestKey: text("manifest_key"),
    /** `deleted` (by its owner) or `expired` (upload never completed). */
    reason: text("reason", { enum: ["deleted", "expired"] }).notNull(),
    /** Failed purge runs so far. */
    purgeFailures: integer("purge_failures").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("video_deletions_created_idx").on(t.createdAt)],
);

/**
 * Emails sent or recorded by the email consumer, one per (video, attempt, outcome): the unique index
 * is what makes a redelivered message not send twice.
 */
export const emails = sqliteTable(
  "emails",
  {
    id: text("id").primaryKey(),
    videoId: text("video_id").notNull(),
    attempt: integer("attempt").notNull(),
    outcome: text("outcome", { enum: ["success", "error"] }).notNull(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    /** `recorded` (no Postmark token: local mode), `sending`, `sent`, or `failed`. */
    status: text("status", { enum: ["recorded", "sending", "sent", "failed"] }).notNull(),
    providerMessageId: text("provider_message_id"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("emails_video_attempt_outcome_uq").on(t.videoId, t.attempt, t.outcome)],
);
