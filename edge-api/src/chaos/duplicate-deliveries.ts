/**
 * Fault injection for the local chaos harness (tools/chaos, `npm run chaos`): makes Cloudflare Queues'
 * at-least-once delivery as bad as it may get, by sending every message twice.
 *
 * Enabled only by `CHAOS_DUPLICATE_DELIVERIES` (comma list of `extract`, `transcode`, `events`, `email`), which
 * `env.ts` refuses unless ENVIRONMENT=local, so a deployed Worker cannot run with it.
 * - extract, transcode: the copy is sent at once (a second delivery of the same job);
 * - events: the copy is sent with a delay of 1–3 s, so it lands after later events of the job (a PROCESSING
 *   copy after the SUCCESS, a SUCCESS copy after the email went out): duplicated and out of order;
 * - email: the copy is sent at once.
 */
import type { Config, Env } from "../env.ts";

type QueueName = Config["chaosDuplicateDeliveries"][number];

/** Delay of an event copy, seconds: 1, 2 or 3. */
const eventCopyDelaySeconds = () => 1 + Math.floor(Math.random() * 3);

/** A queue producer that sends each message, then a copy (with `delaySeconds()` when given). */
function duplicating<T>(queue: Queue<T>, delaySeconds?: () => number): Queue<T> {
  const copyOptions = (): QueueSendOptions => (delaySeconds ? { delaySeconds: delaySeconds() } : {});
  return {
    send: async (body: T, options?: QueueSendOptions) => {
      const sent = await queue.send(body, options);
      await queue.send(body, { ...options, ...copyOptions() });
      return sent;
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      const sent = await queue.sendBatch(list, options);
      await queue.sendBatch(
        list.map((m) => ({ ...m, ...copyOptions() })),
        options,
      );
      return sent;
    },
    metrics: () => queue.metrics(),
  } satisfies Queue<T>;
}

/**
 * @param env the Worker env
 * @param queues the queues to duplicate (Config.chaosDuplicateDeliveries); empty = `env` itself
 * @returns `env`, or a copy whose producers of the named queues send every message twice
 */
export function withDuplicateDeliveries(env: Env, queues: readonly QueueName[]): Env {
  if (queues.length === 0) return env;
  return {
    ...env,
    ...(queues.includes("extract") ? { EXTRACT_QUEUE: duplicating(env.EXTRACT_QUEUE) } : {}),
    ...(queues.includes("transcode") ? { TRANSCODE_QUEUE: duplicating(env.TRANSCODE_QUEUE) } : {}),
    ...(queues.includes("events") ? { EVENTS_QUEUE: duplicating(env.EVENTS_QUEUE, eventCopyDelaySeconds) } : {}),
    ...(queues.includes("email") ? { EMAIL_QUEUE: duplicating(env.EMAIL_QUEUE) } : {}),
  };
}
