ALTER TABLE `videos` ADD `lease_expires_at` integer;--> statement-breakpoint
ALTER TABLE `videos` ADD `recoveries` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `videos_lease_expires_idx` ON `videos` (`lease_expires_at`);--> statement-breakpoint
-- Hand-added backfill: attempts already queued or processing when this migration runs get the default
-- JOB_LEASE_SECONDS (1800 s) from now, so the lease sweep also covers them.
UPDATE `videos` SET `lease_expires_at` = CAST(unixepoch('subsec') * 1000 AS INTEGER) + 1800000 WHERE `status` IN ('VIDEO_IMAGE_EXTRACTION_QUEUED', 'VIDEO_IMAGE_EXTRACTION_PROCESSING') AND `lease_expires_at` IS NULL;
