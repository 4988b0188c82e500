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
import type { TranscodeOutput } from "./messages/transcode.ts";
import type { TranscodeRequest } from "./transcode-options.ts";
import type { TranscodeStatus } from "./transcode-status.ts";
import type { TimelineJobKind, TimelineSource, TimelineStatus } from "./timeline.ts";
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

/**
 * API keys of server-to-server clients (@better-auth/api-key, model `apikey`; field names are the plugin's,
 * so the drizzle adapter needs no field mapping). `key` holds the SHA-256 (base64url) of the key, never the
 * key itself, which is shown once at creation; `start` keeps its first characters (`vsk_…`) for display.
 * `referenceId` is the owning user. Edge-api turns the plugin's own rate limiting off (limits live in the
 * Workers rate limiting bindings), so `lastRequest` is simply the time of the last use.
 */
export const apiKey = sqliteTable(
  "apikey",
  {
    id: text("id").primaryKey(),
    configId: text("config_id").notNull().default("default"),
    name: text("name"),
    start: text("start"),
    prefix: text("prefix"),
    key: text("key").notNull(),
    referenceId: text("reference_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    refillInterval: integer("refill_interval"),
    refillAmount: integer("refill_amount"),
    lastRefillAt: integer("last_refill_at", { mode: "timestamp_ms" }),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    rateLimitEnabled: integer("rate_limit_enabled", { mode: "boolean" }).notNull().default(true),
    rateLimitTimeWindow: integer("rate_limit_time_window"),
    rateLimitMax: integer("rate_limit_max"),
    requestCount: integer("request_count").notNull().default(0),
    remaining: integer("remaining"),
    lastRequest: integer("last_request", { mode: "timestamp_ms" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    permissions: text("permissions"),
    metadata: text("metadata"),
  },
  (t) => [
    uniqueIndex("apikey_key_uq").on(t.key),
    index("apikey_reference_id_idx").on(t.referenceId),
    index("apikey_config_id_idx").on(t.configId),
  ],
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
    /**
     * ETag of the source object when the upload was completed (HEAD at `complete`), null before. The
     * processor reads the source with `If-Match: <it>`, so an object replaced through a still-valid upload URL
     * after the size check is refused instead of processed (issue 18 item 7).
     */
    sourceEtag: text("source_etag"),
    /** The URL an imported video is downloaded from (`source: {url}`, checked by runtime/outgoing-url.ts); null for uploads. */
    sourceUrl: text("source_url"),
    /** Bytes of an import downloaded so far (the source's size once imported), null before and for uploads. */
    importedBytes: integer("imported_bytes"),
    /** Size of an import announced by the remote server (`content-length`), null while unknown and for uploads. */
    importTotalBytes: integer("import_total_bytes"),
    /**
     * Generated videos: when the generator expects to be done (creation + `estimatedSeconds`), epoch ms; the
     * cron fails a generation still pending GENERATION_TIMEOUT_SECONDS after it. Null for other videos.
     */
    estimatedCompletionAt: integer("estimated_completion_at", { mode: "timestamp_ms" }),
    archiveKey: text("archive_key"),
    manifestKey: text("manifest_key"),
    /** 0..1 share of the duration processed, null when unknown. */
    progress: real("progress"),
    /** Images in the archive so far (MSG_EXTRACT_SNAPSHOT_PROGRESS; the image count once done), null when unknown. */
    imagesSoFar: integer("images_so_far"),
    imageCount: integer("image_count"),
    zipSizeBytes: integer("zip_size_bytes"),
    durationSeconds: real("duration_seconds"),
    errorMessage: text("error_message"),
    errorDescription: text("error_description"),
    /**
     * JSON array of the warnings of a SUCCESS on a damaged file (decode errors, an early end; schema/manifest.ts
     * `ExtractionWarnings`), null when there were none or the attempt has not succeeded.
     */
    warnings: text("warnings", { mode: "json" }).$type<string[]>(),
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
    /**
     * Automatic re-queues of this video: by the cron because its lease expired, or after a transient fault
     * the processor reported (a retryable ERROR: storage unavailable); back to 0 on a user's retry.
     */
    recoveries: integer("recoveries").notNull().default(0),
    /**
     * S3 UploadId of the multipart upload of the source (files above MULTIPART_THRESHOLD_BYTES), null for a
     * single presigned PUT; cleared once CompleteMultipartUpload succeeded.
     */
    uploadId: text("upload_id"),
    /** Part size of the multipart upload, bytes (every part but the last); null for a single PUT. */
    uploadPartSizeBytes: integer("upload_part_size_bytes"),
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
    /** S3 UploadId of a multipart upload never completed: aborted with the purge (AbortMultipartUpload). */
    uploadId: text("upload_id"),
    /** `deleted` (by its owner) or `expired` (upload never completed). */
    reason: text("reason", { enum: ["deleted", "expired"] }).notNull(),
    /** Failed purge runs so far. */
    purgeFailures: integer("purge_failures").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("video_deletions_created_idx").on(t.createdAt)],
);

/**
 * The timeline of a video (docs/architecture.md "Timeline"): one row per status change of the video or of
 * one of its jobs, plus notable moments that keep the status (a lease recovery re-queueing a queued job),
 * written by edge-api/src/lifecycle/timeline.ts in the same D1 batch as the change itself, so a row exists
 * exactly when the change happened. Progress is not recorded. Rows go with the video (foreign key, and the
 * deletion batch); a transcode's rows outlive the transcode (its deletion is one of them).
 */
export const videoEvents = sqliteTable(
  "video_events",
  {
    /** Insertion order: breaks ties between events of the same millisecond. */
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    videoId: text("video_id")
      .notNull()
      .references(() => videos.id, { onDelete: "cascade" }),
    /** TimelineJobKind (schema/timeline.ts). */
    jobKind: text("job_kind").$type<TimelineJobKind>().notNull(),
    /** The transcode id for `transcode`; '' for the video's own jobs (no foreign key: it outlives the transcode). */
    jobId: text("job_id").notNull().default(""),
    /** The job's attempt after the change (0 before the first one is queued). */
    attempt: integer("attempt").notNull(),
    /** Null when the record was created. */
    fromStatus: text("from_status").$type<TimelineStatus>(),
    toStatus: text("to_status").$type<TimelineStatus>().notNull(),
    /** TimelineSource (schema/timeline.ts). */
    source: text("source").$type<TimelineSource>().notNull(),
    /** Why, when it says more than the statuses (an error message, a retry's reason); ≤ TIMELINE_MESSAGE_MAX_CHARS. */
    message: text("message"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("video_events_video_created_idx").on(t.videoId, t.createdAt, t.id)],
);

/**
 * One transcode of a video (`POST /v1/videos/{id}/transcodes`, or `transcode` in `POST /v1/videos`) and the
 * state of its latest attempt: the `JobRow` lifecycle columns (edge-api/src/lifecycle/job-kind.ts) plus the
 * request, live progress and the outputs the processor reported. Outputs live in VIDEOS_BUCKET under
 * `transcodePrefix` (schema/object-keys.ts). Deleting the video deletes its transcodes (foreign key) and
 * the video's purge removes their objects.
 */
export const transcodes = sqliteTable(
  "transcodes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    videoId: text("video_id")
      .notNull()
      .references(() => videos.id, { onDelete: "cascade" }),
    status: text("status").$type<TranscodeStatus>().notNull(),
    /** JSON of TranscodeRequest (schema/transcode-options.ts), as validated when it was asked. */
    request: text("request", { mode: "json" }).$type<TranscodeRequest>().notNull(),
    /** Current attempt; 0 while TRANSCODE_PENDING. */
    attempt: integer("attempt").notNull().default(0),
    recoveries: integer("recoveries").notNull().default(0),
    /** Deadline of the current attempt while QUEUED or PROCESSING, epoch ms (docs/architecture.md "Leases"). */
    leaseExpiresAt: integer("lease_expires_at", { mode: "timestamp_ms" }),
    /** 0..1 share of the (trimmed) duration encoded, never lowered; 1 once done; null when unknown. */
    progress: real("progress"),
    /** Encode speed, × real time (last PROGRESS, or the whole job's on SUCCESS); null when unknown. */
    speed: real("speed"),
    /** Estimated seconds left (last PROGRESS); null when unknown or done. */
    etaSeconds: real("eta_seconds"),
    /** JSON array of TranscodeOutput (MSG_TRANSCODE_SUCCESS), null until the attempt succeeded. */
    outputs: text("outputs", { mode: "json" }).$type<TranscodeOutput[]>(),
    /** Duration of the source video, seconds (ffprobe, MSG_TRANSCODE_SUCCESS). */
    sourceDurationSeconds: real("source_duration_seconds"),
    /** Encode wall time of the successful attempt, seconds. */
    elapsedSeconds: real("elapsed_seconds"),
    errorMessage: text("error_message"),
    errorDescription: text("error_description"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    queuedAt: integer("queued_at", { mode: "timestamp_ms" }),
    processingStartedAt: integer("processing_started_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("transcodes_video_created_idx").on(t.videoId, t.createdAt, t.id),
    index("transcodes_user_created_idx").on(t.userId, t.createdAt),
    // The lease sweep (cron) scans `lease_expires_at < ?`, oldest first.
    index("transcodes_lease_expires_idx").on(t.leaseExpiresAt),
  ],
);

/**
 * Emails sent or recorded by the email consumer, one per (video, job, attempt, outcome): the unique index
 * is what makes a redelivered message not send twice. `job_id` is empty for the video's extraction and
 * the transcode id for a transcode's emails (so two transcodes of one video never share a row).
 */
export const emails = sqliteTable(
  "emails",
  {
    id: text("id").primaryKey(),
    videoId: text("video_id").notNull(),
    /** '' for the video's extraction; the transcode id for a transcode. */
    jobId: text("job_id").notNull().default(""),
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
  (t) => [uniqueIndex("emails_video_job_attempt_outcome_uq").on(t.videoId, t.jobId, t.attempt, t.outcome)],
);

/**
 * Account emails (address verification; schema/messages/account-email.ts), one row per `emailId`, the
 * deduplication key of the message. Same delivery columns and statuses as `emails`
 * (email-consumer/src/store.ts); in local record mode this table is the outbox the demo reads its
 * verification link from.
 */
export const accountEmails = sqliteTable(
  "account_emails",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["email-verification"] }).notNull(),
    userId: text("user_id").notNull(),
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
  (t) => [index("account_emails_user_idx").on(t.userId, t.createdAt)],
);

/**
 * Webhook endpoints a user registered (`POST /v1/webhooks`, docs/webhooks.md). The signing secret
 * (`whsec_…`) must stay usable to sign, so it is not hashed: `secret_ciphertext` holds it encrypted with
 * AES-256-GCM under a key derived (HKDF-SHA-256) from BETTER_AUTH_SECRET, the endpoint id as associated
 * data (edge-api/src/services/webhooks/signing-secret.ts). A database dump alone does not reveal it.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    /** `v1.<iv base64url>.<ciphertext base64url>` of the signing secret. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** JSON array of subscribed event types (`video.ready`, `video.failed`). */
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhook_endpoints_user_created_idx").on(t.userId, t.createdAt)],
);

/**
 * One event to deliver to one endpoint, and the outcome of every try. The row is written before its
 * queue message; the unique (endpoint, video, job, attempt, event type) makes a redelivered processor
 * event create no second delivery, and the `pending` status + `locked_until` claim make a duplicate
 * queue message send nothing once the delivery succeeded (or while another try is in flight).
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    /** `evt_…`, sent as `vidsnap-event-id` and as the body's `id`; the same for every endpoint. */
    eventId: text("event_id").notNull(),
    /** `video.ready`, `video.failed` or `ping`. */
    eventType: text("event_type").notNull(),
    /** Null for `ping`. */
    videoId: text("video_id"),
    /** '' for the video's own events (`video.*`, `ping`); the transcode id for `transcode.*`. */
    jobId: text("job_id").notNull().default(""),
    /** Attempt of the job (extraction or transcode) the event is about; null for `ping`. */
    attempt: integer("attempt"),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull().default("pending"),
    /** HTTP tries made so far. */
    attemptsMade: integer("attempts_made").notNull().default(0),
    lastResponseStatus: integer("last_response_status"),
    /** Short reason of the last failed try (≤ 200 characters). */
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    /** A consumer is sending it until then (epoch ms); null when nobody is. */
    lockedUntil: integer("locked_until", { mode: "timestamp_ms" }),
    /** The exact JSON body sent (and signed) on every try. */
    payload: text("payload").notNull(),
    /** JSON array of `{at, responseStatus, error, durationMs}`, one per try. */
    attemptLog: text("attempt_log", { mode: "json" })
      .$type<{ at: string; responseStatus: number | null; error: string | null; durationMs: number }[]>()
      .notNull()
      .default(sql`'[]'`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_job_event_uq").on(t.endpointId, t.videoId, t.jobId, t.attempt, t.eventType),
    index("webhook_deliveries_endpoint_created_idx").on(t.endpointId, t.createdAt, t.id),
    // The per-endpoint cap on waiting deliveries counts these (edge-api/src/services/webhooks/pending-cap.ts).
    index("webhook_deliveries_endpoint_pending_idx").on(t.endpointId, t.createdAt).where(sql`${t.status} = 'pending'`),
  ],
);

/**
 * External generators a user registered (`POST /v1/generators`, docs/generators.md): a URL vidsnap POSTs
 * generation requests to, signed like webhooks. The signing secret is stored the way webhook secrets are
 * (`secret_ciphertext`, edge-api/src/services/webhooks/signing-secret.ts, the generator id as associated data).
 */
export const generators = sqliteTable(
  "generators",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** `v1.<iv base64url>.<ciphertext base64url>` of the signing secret. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("generators_user_created_idx").on(t.userId, t.createdAt)],
);

/**
 * One generation (`POST /v1/generations`): its id is the video's id. It holds the generator's input, the hash
 * of the per-generation callback token (the token itself is derived again when the request is sent, never
 * stored) and the delivery of the signed request to the generator, kept as a delivery store
 * (runtime/delivery-store.ts) like `webhook_deliveries`: `pending` → `succeeded` | `failed`, a claim in
 * `locked_until`, one `attempt_log` entry per try.
 */
export const generations = sqliteTable(
  "generations",
  {
    id: text("id")
      .primaryKey()
      .references(() => videos.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    /** Null once the generator was deleted (a request not yet sent then fails). */
    generatorId: text("generator_id").references(() => generators.id, { onDelete: "set null" }),
    /** The JSON object sent to the generator as `input` (≤ 64 KB). */
    input: text("input").notNull(),
    /** Hex SHA-256 of the callback token (edge-api/src/services/generations/callback-token.ts). */
    callbackTokenHash: text("callback_token_hash").notNull(),
    /** When the generator's callback was accepted (null before): a repeated callback changes nothing. */
    callbackAt: integer("callback_at", { mode: "timestamp_ms" }),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull().default("pending"),
    /** HTTP tries of the request so far. */
    attemptsMade: integer("attempts_made").notNull().default(0),
    lastResponseStatus: integer("last_response_status"),
    /** Short reason of the last failed try (≤ 200 characters). */
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    /** A consumer is sending the request until then (epoch ms); null when nobody is. */
    lockedUntil: integer("locked_until", { mode: "timestamp_ms" }),
    /** JSON array of `{at, responseStatus, error, durationMs}`, one per try. */
    attemptLog: text("attempt_log", { mode: "json" })
      .$type<{ at: string; responseStatus: number | null; error: string | null; durationMs: number }[]>()
      .notNull()
      .default(sql`'[]'`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deliveredAt: integer("delivered_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("generations_user_idx").on(t.userId), index("generations_generator_idx").on(t.generatorId)],
);
