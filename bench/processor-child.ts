/**
 * The vidsnap processor as the benchmark runs it: the real server (`createProcessorServer`, the same
 * code as `npm run processor`) in its own Node process, so its memory and its ffmpeg children form one
 * measurable process tree. Configuration comes from the environment like `main.ts`; in addition
 * `BENCH_INTERVAL_STRATEGY` (auto | seek | sequential) sets `intervalStrategy` (bench only: `sequential`
 * reproduces the pre-strategy pipeline). Prints one JSON line `{"benchListening": url}` on stdout, then
 * the processor's log records (`interval strategy` lines are read by the bench); exits on SIGTERM.
 */
import { loadConfig } from "../ffmpeg-container/src/config.ts";
import type { IntervalStrategySetting } from "../ffmpeg-container/src/interval-strategy.ts";
import type { Logger } from "../ffmpeg-container/src/log.ts";
import { createProcessorServer } from "../ffmpeg-container/src/server.ts";

const setting = (process.env.BENCH_INTERVAL_STRATEGY ?? "auto") as IntervalStrategySetting;
const config = { ...loadConfig(process.env), intervalStrategy: setting };
const log: Logger = (level, msg, fields = {}) => {
  if (msg === "interval strategy" || level === "error") process.stdout.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
};
const processor = createProcessorServer(config, { log });
const url = await processor.listen();
process.stdout.write(`${JSON.stringify({ benchListening: url })}\n`);
process.on("SIGTERM", () => {
  processor.close({ abortRunning: true }).finally(() => process.exit(0));
});
