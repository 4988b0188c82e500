/**
 * The vidsnap processor as the benchmark runs it: the real server (`createProcessorServer`, the same
 * code as `npm run processor`) in its own Node process, so its memory and its ffmpeg children form one
 * measurable process tree. Configuration comes from the environment like `main.ts`; in addition
 * `BENCH_INTERVAL_STRATEGY` (auto | seek | sequential | sequential-one-run) sets `intervalStrategy`
 * (bench only: `sequential-one-run` reproduces the pre-strategy pipeline) and `BENCH_SEGMENT_SPLIT_MIN_PIXEL_FRAMES` sets
 * `segmentSplitMinPixelFrames` (Infinity: never split, 0: always). Prints one JSON line `{"benchListening": url}` on stdout, then
 * the processor's log records the bench reads (`interval strategy`, `keyframe accuracy`, `parallel
 * segments`, errors); exits on SIGTERM.
 */
import { loadProcessorConfig } from "../../ffmpeg-container/src/config.ts";
import type { IntervalStrategySetting } from "../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";
import { createLogger } from "../../runtime/log.ts";
import { createProcessorServer } from "../../ffmpeg-container/src/runner/server.ts";

// `sequential-one-run`: the sequential strategy never split into parallel halves (the pipeline before
// decode-stream.ts existed).
const raw = process.env.BENCH_INTERVAL_STRATEGY ?? "auto";
const setting = (raw === "sequential-one-run" ? "sequential" : raw) as IntervalStrategySetting;
const splitEnv = raw === "sequential-one-run" ? "Infinity" : process.env.BENCH_SEGMENT_SPLIT_MIN_PIXEL_FRAMES;
const config = {
  ...loadProcessorConfig(process.env),
  intervalStrategy: setting,
  ...(splitEnv ? { segmentSplitMinPixelFrames: Number(splitEnv) } : {}),
};
const log = createLogger({}, {
  sink: (level, line) => {
    const { msg } = JSON.parse(line) as { msg: string };
    if (msg === "interval strategy" || msg === "extraction phases" || msg === "keyframe accuracy" || msg === "parallel segments" || level === "error") process.stdout.write(`${line}\n`);
  },
});
const processor = createProcessorServer(config, { log });
const url = await processor.listen();
process.stdout.write(`${JSON.stringify({ benchListening: url })}\n`);
process.on("SIGTERM", () => {
  processor.close({ abortRunning: true }).finally(() => process.exit(0));
});
