ALTER TABLE `videos` ADD `source_etag` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `warnings` text;