/**
 * The overhead of the whole local stack over the pipeline alone (target: under 1.5 s): the
 * real stack of `npm start` (local S3 server, processor, edge-api + email-consumer under `wrangler dev`
 * with local Queues and D1) on free ports and a temporary data folder, driven through the REST API.
 * For each run: create a video, upload it (not timed), then time `POST /v1/videos/{id}/complete` →
 * the first `GET /v1/videos/{id}` that shows VIDEO_IMAGE_EXTRACTION_SUCCESS (polled every 50 ms, so the
 * figure is at most 50 ms late). The bench subtracts the pipeline alone (the same processor code on the
 * same input, ./pipelines.ts) to get the overhead: queue hops and batch waits, D1 updates, the
 * consumer's relay of the processor's events. The stack processor's own job time (its log) tells how
 * much of it is the job running slower beside wrangler and workerd on the same 2 cores.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { authenticate, createVidsnapClient, unwrap, type Video } from "../../client/src/index.ts";
import { uploadVideoFile } from "../../client/src/upload.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { freePort } from "../free-port.ts";
import { startStack } from "../stack/stack.ts";

/** One run through the stack, seconds. */
export interface StackRun {
  /** complete → success as the client saw it (wall clock of this process). */
  completeToSuccessSeconds: number;
  /** `completedAt − queuedAt` stored in D1 (the API's clock). */
  storedQueuedToCompletedSeconds: number | null;
  /** The job's own time in the stack's processor (its `job succeeded` log, `totalMs`). */
  processorSeconds: number | null;
}

/** Polling period of the status, milliseconds. */
const POLL_MS = 50;

/**
 * Starts a stack, runs `runs` jobs of `file` with `options` one after another, stops the stack.
 * @param file local video path
 * @returns one {@link StackRun} per job
 * @throws Error when the stack does not start or a job does not succeed within 120 s
 */
export async function measureStack(file: string, options: ExtractionOptions, runs: number): Promise<StackRun[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-stack-"));
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  // The processor's own time per job, from its structured log (`[processor] {"msg":"job succeeded",…}`).
  const processorMs = new Map<string, number>();
  const log = (line: string) => {
    if (!line.startsWith("[processor] ")) return;
    try {
      const j = JSON.parse(line.slice("[processor] ".length)) as { msg?: string; jobId?: string; totalMs?: number };
      if (j.msg === "job succeeded" && j.jobId && j.totalMs !== undefined) processorMs.set(j.jobId, j.totalMs);
    } catch {
      // not a log record
    }
  };
  const stack = await startStack({ dataDir, apiPort, processorPort, s3Port, log });
  try {
    const { token } = await authenticate(stack.apiUrl, "sign-up", { email: "bench@vidsnap.local", password: "bench-password-123", name: "bench" });
    const api = createVidsnapClient({ baseUrl: stack.apiUrl, token });
    const out: StackRun[] = [];
    for (let i = 0; i < runs; i++) {
      // The clock starts when the upload's `/complete` request leaves (the upload itself is not timed).
      let started = 0;
      const timedFetch: typeof fetch = (input, init) => {
        if (new URL(input instanceof Request ? input.url : input).pathname.endsWith("/complete")) started = performance.now();
        return fetch(input, init);
      };
      const video = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: file, options, fetch: timedFetch });
      const deadline = Date.now() + 120_000;
      let stored: Video;
      for (;;) {
        stored = unwrap(await api.GET("/v1/videos/{id}", { params: { path: { id: video.id } } })).video;
        if (stored.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") break;
        if (stored.status === "VIDEO_IMAGE_EXTRACTION_ERROR") throw new Error(`stack job failed: ${stored.errorMessage}`);
        if (Date.now() > deadline) throw new Error(`stack job ${video.id} not done after 120 s`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const completeToSuccessSeconds = (performance.now() - started) / 1000;
      const ms = processorMs.get(`${video.id}#1`);
      out.push({
        completeToSuccessSeconds,
        processorSeconds: ms === undefined ? null : ms / 1000,
        storedQueuedToCompletedSeconds:
          stored.queuedAt && stored.completedAt ? (Date.parse(stored.completedAt) - Date.parse(stored.queuedAt)) / 1000 : null,
      });
    }
    return out;
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
