/**
 * Entry of the processor (`npm run processor`, and the container image's command).
 * - SIGTERM (Cloudflare Containers, docker stop): stop accepting jobs, let running jobs finish
 *   (each is bounded by JOB_TIMEOUT_SECONDS), then exit 0.
 * - SIGINT (Ctrl-C locally), or a second signal: abort running jobs (each reports ERROR), then exit 0.
 * Exits 1 with one JSON log line when the configuration is invalid or the port cannot be bound.
 */
import { errorFields } from "../../runtime/log.ts";
import { loadProcessorConfig } from "./config.ts";
import { createProcessorLogger, createProcessorServer } from "./runner/server.ts";
import { prepareWorkRoot } from "./runner/work-root.ts";

const log = createProcessorLogger();

async function main(): Promise<void> {
  const config = loadProcessorConfig(process.env);
  // Jobs work under a folder of this process; folders of SIGKILLed predecessors are removed.
  const { workRoot, removed } = await prepareWorkRoot(config.tmpDir);
  if (removed.length > 0) log.warn("removed working folders of dead processors", { removed });
  config.tmpDir = workRoot;
  const processor = createProcessorServer(config, { log });
  await processor.listen();

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal: aborting running jobs", { signal, runningJobs: processor.runningJobs() });
      processor.close({ abortRunning: true }).catch(() => undefined);
      return;
    }
    stopping = true;
    const abortRunning = signal === "SIGINT";
    log.info("shutting down", { signal, runningJobs: processor.runningJobs(), abortRunning });
    processor
      .close({ abortRunning })
      .then(() => {
        log.info("stopped");
        process.exit(0);
      })
      .catch((e: unknown) => {
        log.error("shutdown failed", errorFields(e));
        process.exit(1);
      });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((e: unknown) => {
  log.error("processor failed to start", { error: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
