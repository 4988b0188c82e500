ALTER TABLE `videos` ADD `source_url` text;--> statement-breakpoint
ALTER TABLE `videos` ADD `imported_bytes` integer;--> statement-breakpoint
ALTER TABLE `videos` ADD `import_total_bytes` integer;