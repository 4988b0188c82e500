CREATE TABLE `video_deletions` (
	`video_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`source_key` text NOT NULL,
	`archive_key` text,
	`manifest_key` text,
	`reason` text NOT NULL,
	`purge_failures` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `video_deletions_created_idx` ON `video_deletions` (`created_at`);--> statement-breakpoint
CREATE INDEX `videos_status_created_idx` ON `videos` (`status`,`created_at`);