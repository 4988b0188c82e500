/**
 * Entry of the vidsnap-edge-api Worker: `fetch` (REST API + better-auth, ./app.ts), `queue` (extraction
 * jobs, processor events and the extraction dead-letter queue, ./queues), `scheduled` (cron: stale
 * uploads and leftover object deletions, ./scheduled.ts), and the Durable Object class of the processor
 * container.
 */
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { handleQueue } from "./queues/index.ts";
import { handleScheduled } from "./scheduled.ts";

export { ProcessorContainer } from "./processor/index.ts";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
