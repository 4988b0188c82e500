CREATE TABLE `transcodes` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`video_id` text NOT NULL,
	`status` text NOT NULL,
	`request` text NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`recoveries` integer DEFAULT 0 NOT NULL,
	`lease_expires_at` integer,
	`progress` real,
	`speed` real,
	`eta_seconds` real,
	`outputs` text,
	`source_duration_seconds` real,
	`elapsed_seconds` real,
	`error_message` text,
	`error_description` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`queued_at` integer,
	`processing_started_at` integer,
	`completed_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`video_id`) REFERENCES `videos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `transcodes_video_created_idx` ON `transcodes` (`video_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `transcodes_user_created_idx` ON `transcodes` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `transcodes_lease_expires_idx` ON `transcodes` (`lease_expires_at`);--> statement-breakpoint
DROP INDEX `emails_video_attempt_outcome_uq`;--> statement-breakpoint
ALTER TABLE `emails` ADD `job_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `emails_video_job_attempt_outcome_uq` ON `emails` (`video_id`,`job_id`,`attempt`,`outcome`);--> statement-breakpoint
DROP INDEX `webhook_deliveries_event_uq`;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `job_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_job_event_uq` ON `webhook_deliveries` (`endpoint_id`,`video_id`,`job_id`,`attempt`,`event_type`);