/**
 * The runner's progress API (src/runner/job-stream.ts) with a stand-in job kind: the fraction and counters
 * never go down, gauges (e.g. a transcode's speed and ETA) are sent as last reported, up or down or null;
 * a kind's own job key and timeout apply.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../../../runtime/log.ts";
import type { JobKind, JobRef } from "../../../ffmpeg-container/src/runner/job-kind.ts";
import { createProcessorServer, type ProcessorServer } from "../../../ffmpeg-container/src/runner/server.ts";
import { postJob, startHarness, type Harness } from "../harness.ts";

const Event = z.object({ type: z.string(), payload: z.record(z.string(), z.unknown()) });
type Event = z.infer<typeof Event>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The stand-in kind touches no storage: its jobs carry no credential (every job must carry the member). */
const NO_STORAGE = {};

/** Reports (fraction, speed, eta) steps 300 ms apart, then succeeds; or sleeps past its 0.3 s timeout. */
const standIn: JobKind<JobRef & { name: string; slow?: boolean }, { ok: true }> = {
  type: "MSG_STAND_IN",
  parse: (e) => ({ job: (e as { payload: JobRef & { name: string; slow?: boolean } }).payload }),
  jobKey: (job) => `${job.name}#${job.attempt}`,
  timeout: () => ({ seconds: 0.3, setting: "STAND_IN_TIMEOUT_SECONDS" }),
  async run(job, ctx) {
    if (job.slow) {
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error)));
    }
    ctx.progress(0.2, { n: 2 }, { speed: 3, etaSeconds: 10 });
    await sleep(300);
    ctx.progress(0.1, { n: 1 }, { speed: 1, etaSeconds: 40 });
    await sleep(300);
    ctx.progress(0.5, {}, { speed: null, etaSeconds: null });
    await sleep(300);
    return { ok: true };
  },
  eventSchema: Event,
  processingEvent: () => ({ type: "PROCESSING", payload: {} }),
  progressEvent: (_job, p) => ({ type: "PROGRESS", payload: { fraction: p.fraction, ...p.counters, ...p.gauges } }),
  successEvent: () => ({ type: "SUCCESS", payload: {} }),
  errorEvent: (_job, f) => ({ type: "ERROR", payload: { ...f } }),
};

let h: Harness;
let p: ProcessorServer;
let url: string;
beforeAll(async () => {
  h = await startHarness();
  // 60 s extraction timeout in the harness config: only the kind's own 0.3 s may stop the slow job.
  p = createProcessorServer({ ...h.config, progressIntervalMs: 50 }, { kinds: [standIn], log: createLogger({}, { sink: () => undefined }) });
  url = await p.listen();
});
afterAll(async () => {
  await p?.close({ abortRunning: true });
  await h?.close();
});

describe("progress gauges, job key and timeout of a kind", () => {
  it("fraction and counters never go down; gauges are the latest values", async () => {
    const res = await postJob(url, { type: "MSG_STAND_IN", payload: { videoId: "v", attempt: 1, name: "a" }, credentials: NO_STORAGE }, {}, Event);
    const progress = res.events.filter((e: Event) => e.type === "PROGRESS").map((e: Event) => e.payload);
    expect(progress).toEqual([
      { fraction: 0.2, n: 2, speed: 3, etaSeconds: 10 },
      { fraction: 0.2, n: 2, speed: 1, etaSeconds: 40 },
      { fraction: 0.5, n: 2, speed: null, etaSeconds: null },
    ]);
    expect(res.events.at(-1)!.type).toBe("SUCCESS");
  });

  it("the kind's timeout and its setting's name", async () => {
    const res = await postJob(url, { type: "MSG_STAND_IN", payload: { videoId: "v", attempt: 1, name: "b", slow: true }, credentials: NO_STORAGE }, {}, Event);
    expect(res.events.at(-1)).toEqual({
      type: "ERROR",
      payload: {
        errorMessage: "Processing took longer than the limit of 0.3 seconds and was stopped.",
        errorDescription: expect.stringContaining("STAND_IN_TIMEOUT_SECONDS"),
      },
    });
  });
});
