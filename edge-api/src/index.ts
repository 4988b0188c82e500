/**
 * Entry of the vidsnap-edge-api Worker: `fetch` (REST API + better-auth, ./app.ts), `queue` (jobs,
 * processor events, webhook deliveries and their dead-letter queues, ./queues), `scheduled` (cron: stale
 * uploads, leftover object deletions, expired leases, ./scheduled.ts), and the Durable Object class of the
 * processor container.
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
