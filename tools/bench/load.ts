/**
 * `npm run bench -- --load [--videos N]`: throughput of the whole local stack (the stack of `npm start`:
 * S3 server, processor with its default job slots, edge-api + email-consumer under `wrangler dev` with local
 * Queues and D1), driven through the REST API with the typed client. For each extraction mode it runs N short
 * videos (the readable videos of ../shared/testdata, round robin; default 50) twice:
 * - **one at a time**: upload, `complete`, wait for SUCCESS, then the next; the sum of complete → SUCCESS;
 * - **all at once**: every upload done first (not timed), then every `complete` sent together; the time from
 *   the first `complete` to the last SUCCESS.
 * The ratio of the two is the stack's throughput gain from running jobs concurrently (issue 17's target:
 * ≥ 1.7× on 2 cores). Every job must end in SUCCESS, or the run fails.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { authenticate, createVidsnapClient, unwrap } from "../../client/src/index.ts";
import { uploadVideoFile } from "../../client/src/upload.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { freePort } from "../free-port.ts";
import { startStack } from "../stack/stack.ts";

/** Status polling period, milliseconds. */
const POLL_MS = 100;
/** Jobs per phase at most: the status poll reads the newest 100 videos. */
export const MAX_LOAD_VIDEOS = 50;
/** Longest wait for one phase, milliseconds. */
const PHASE_DEADLINE_MS = 20 * 60_000;

/** One mode's result. */
export interface LoadRow {
  mode: string;
  videos: number;
  /** Sum of complete → SUCCESS over the one-at-a-time runs, seconds. */
  oneAtATimeSeconds: number;
  /** First complete → last SUCCESS with every job sent at once, seconds. */
  allAtOnceSeconds: number;
  /** oneAtATimeSeconds / allAtOnceSeconds. */
  throughputGain: number;
}

/**
 * Runs the load bench on a fresh local stack.
 * @param files the inputs, used round robin
 * @param videos jobs per phase and mode
 * @returns one row per mode (keyframes, interval 10 s)
 * @throws Error when the stack does not start, or a job fails or does not finish within the deadline
 */
export async function measureLoad(files: string[], videos: number): Promise<LoadRow[]> {
  if (videos > MAX_LOAD_VIDEOS) throw new Error(`--videos is at most ${MAX_LOAD_VIDEOS}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-load-"));
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  const stack = await startStack({ dataDir, apiPort, processorPort, s3Port, log: () => undefined });
  try {
    const { token } = await authenticate(stack.apiUrl, "sign-up", { email: "load@vidsnap.local", password: "bench-password-123", name: "load" });
    const api = createVidsnapClient({ baseUrl: stack.apiUrl, token });
    // One list request per poll (the newest 100 videos hold every pending one), not one per video: the
    // polling itself must not load the stack it measures.
    const waitForSuccess = async (ids: string[]): Promise<void> => {
      const pending = new Set(ids);
      const deadline = Date.now() + PHASE_DEADLINE_MS;
      while (pending.size > 0) {
        const { data } = unwrap(await api.GET("/v1/videos", { params: { query: { limit: 100 } } }));
        for (const video of data) {
          if (!pending.has(video.id)) continue;
          if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") pending.delete(video.id);
          else if (video.status === "VIDEO_IMAGE_EXTRACTION_ERROR") throw new Error(`load job ${video.id} failed: ${video.errorMessage}`);
        }
        if (pending.size === 0) break;
        if (Date.now() > deadline) throw new Error(`${pending.size} load jobs not done after ${PHASE_DEADLINE_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    const modes: { mode: string; options: ExtractionOptions }[] = [
      { mode: "keyframes", options: { mode: "keyframes" } },
      { mode: "interval 10", options: { mode: "interval", intervalSeconds: 10 } },
    ];
    const rows: LoadRow[] = [];
    for (const { mode, options } of modes) {
      let oneAtATime = 0;
      for (let i = 0; i < videos; i++) {
        let started = 0;
        const timed: typeof fetch = (input, init) => {
          if (new URL(input instanceof Request ? input.url : input).pathname.endsWith("/complete")) started = performance.now();
          return fetch(input, init);
        };
        const video = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: files[i % files.length]!, options, fetch: timed });
        await waitForSuccess([video.id]);
        oneAtATime += (performance.now() - started) / 1000;
      }

      // Every upload reaches its `complete` and waits there; then all are released at once.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let waiting = 0;
      let allWaiting!: () => void;
      const ready = new Promise<void>((r) => (allWaiting = r));
      const gated: typeof fetch = async (input, init) => {
        if (new URL(input instanceof Request ? input.url : input).pathname.endsWith("/complete")) {
          if (++waiting === videos) allWaiting();
          await gate;
        }
        return fetch(input, init);
      };
      const uploads = Array.from({ length: videos }, (_, i) =>
        uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: files[i % files.length]!, options, fetch: gated }),
      );
      await ready;
      const started = performance.now();
      release();
      const ids = (await Promise.all(uploads)).map((v) => v.id);
      await waitForSuccess(ids);
      const allAtOnce = (performance.now() - started) / 1000;
      rows.push({
        mode,
        videos,
        oneAtATimeSeconds: Math.round(oneAtATime * 100) / 100,
        allAtOnceSeconds: Math.round(allAtOnce * 100) / 100,
        throughputGain: Math.round((oneAtATime / allAtOnce) * 100) / 100,
      });
    }
    return rows;
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
