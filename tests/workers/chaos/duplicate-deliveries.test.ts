/**
 * The chaos harness's fault switch CHAOS_DUPLICATE_DELIVERIES (edge-api/src/env.ts,
 * edge-api/src/chaos/duplicate-deliveries.ts): accepted only with ENVIRONMENT=local, and when on, every
 * message to the named queues is sent twice (event copies 1–3 s late); queues not named are untouched.
 */
import { describe, expect, it } from "vitest";
import { withDuplicateDeliveries } from "../../../edge-api/src/chaos/duplicate-deliveries.ts";
import type { Env } from "../../../edge-api/src/env.ts";
import { checkConfig, remoteSecrets } from "../support/env.ts";

const base = {
  PUBLIC_BASE_URL: "https://api.example.com",
  S3_ENDPOINT: "https://s3.example.com",
  S3_REGION: "auto",
  VIDEOS_BUCKET: "videos-bucket",
  IMAGES_BUCKET: "images-bucket",
  PROCESSOR_URL: "https://processor.example.com",
  PROCESSOR_SHARED_SECRET: "s".repeat(40),
  PROCESSOR_INSTANCES: "5",
  // Only its presence is checked here.
  PROCESSOR: {} as unknown as NonNullable<Env["PROCESSOR"]>,
};
/** A queue producer recording what was sent. */
function recordingQueue() {
  const sent: { body: unknown; delaySeconds?: number }[] = [];
  const queue = {
    send: async (body: unknown, options?: QueueSendOptions) => {
      sent.push({ body, delaySeconds: options?.delaySeconds });
      return {} as never;
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
      return {} as never;
    },
    metrics: async () => ({}) as never,
  };
  return { queue: queue as unknown as Queue<never>, sent };
}

describe("CHAOS_DUPLICATE_DELIVERIES", () => {
  it("is refused outside ENVIRONMENT=local, naming the variable", () => {
    for (const environment of ["staging", "production"]) {
      const result = checkConfig({ ...base, ...remoteSecrets, ENVIRONMENT: environment, CHAOS_DUPLICATE_DELIVERIES: "extract" } as unknown as Env);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.join("\n")).toMatch(/^CHAOS_DUPLICATE_DELIVERIES: allowed only when ENVIRONMENT=local$/m);
    }
    // Empty counts as unset: remote configs stay valid.
    const ok = checkConfig({ ...base, ...remoteSecrets, ENVIRONMENT: "production", CHAOS_DUPLICATE_DELIVERIES: "" } as unknown as Env);
    expect(ok.ok && ok.config.chaosDuplicateDeliveries).toEqual([]);
  });

  it("is parsed as a list of known queues locally, and an unknown queue is refused", () => {
    const ok = checkConfig({ ...base, ENVIRONMENT: "local", CHAOS_DUPLICATE_DELIVERIES: "extract, transcode, events,email" } as unknown as Env);
    expect(ok.ok && ok.config.chaosDuplicateDeliveries).toEqual(["extract", "transcode", "events", "email"]);
    const bad = checkConfig({ ...base, ENVIRONMENT: "local", CHAOS_DUPLICATE_DELIVERIES: "extract,webhooks" } as unknown as Env);
    expect(bad.ok).toBe(false);
  });

  it("sends every message of the named queues twice, event copies 1-3 s late, others once", async () => {
    const extract = recordingQueue();
    const transcode = recordingQueue();
    const events = recordingQueue();
    const email = recordingQueue();
    const env = { EXTRACT_QUEUE: extract.queue, TRANSCODE_QUEUE: transcode.queue, EVENTS_QUEUE: events.queue, EMAIL_QUEUE: email.queue } as unknown as Env;
    const wrapped = withDuplicateDeliveries(env, ["extract", "transcode", "events"]);
    await wrapped.TRANSCODE_QUEUE.send({ n: 4 } as never);
    expect(transcode.sent).toEqual([{ body: { n: 4 } }, { body: { n: 4 } }]);
    await wrapped.EXTRACT_QUEUE.send({ n: 1 } as never);
    await wrapped.EVENTS_QUEUE.send({ n: 2 } as never);
    await wrapped.EMAIL_QUEUE.send({ n: 3 } as never);
    expect(extract.sent).toEqual([{ body: { n: 1 } }, { body: { n: 1 } }]);
    expect(events.sent.map((s) => s.body)).toEqual([{ n: 2 }, { n: 2 }]);
    expect(events.sent[0]!.delaySeconds).toBeUndefined();
    expect(events.sent[1]!.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(events.sent[1]!.delaySeconds).toBeLessThanOrEqual(3);
    expect(email.sent).toEqual([{ body: { n: 3 } }]);
    expect(withDuplicateDeliveries(env, [])).toBe(env);
  });
});
