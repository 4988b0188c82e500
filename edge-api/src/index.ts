/**
 * Entry of the vidsnap-edge-api Worker: `fetch` (REST API + better-auth, ./app.ts), `queue` (extraction
 * jobs and processor events, ./queues), and the Durable Object class of the processor container.
 */
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { handleQueue } from "./queues/index.ts";

export { ProcessorContainer } from "./processor/index.ts";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: handleQueue,
} satisfies ExportedHandler<Env, unknown>;
