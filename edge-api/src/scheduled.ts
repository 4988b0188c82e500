/**
 * The Worker's `scheduled()` handler, run by the cron trigger of wrangler.toml (every 15 minutes). Every
 * run, with the cron's `scheduledTime` as "now":
 * 1. expires stale uploads (lifecycle/expire-stale-uploads.ts): VIDEO_UPLOAD_PENDING records older
 *    than UPLOAD_PENDING_TTL_SECONDS and their source objects, at most 100 per run;
 * 2. sweeps `video_deletions` rows left by an earlier storage failure (lifecycle/purge-video-objects.ts),
 *    at most 100 per run;
 * 3. recovers extraction attempts whose lease expired (lifecycle/leases.ts): re-queued as a new
 *    attempt up to MAX_JOB_RECOVERIES times, then failed with the error email; at most 50 per run;
 * 4. the same for transcode attempts (lifecycle/transcode-job.ts), at most 50 per run;
 * 5. the same for import attempts (lifecycle/import-job.ts), at most 50 per run;
 * 6. fails generations with no callback by estimatedCompletionAt + GENERATION_TIMEOUT_SECONDS
 *    (lifecycle/expire-generations.ts), at most 50 per run.
 * Each task runs even when another failed; a failure is logged and rethrown at the end so the run is
 * reported as failed. An invalid env is logged and fails the run (fail closed: nothing is deleted).
 */
import { createDeps } from "./context.ts";
import { createLogger, errorFields } from "../../runtime/log.ts";
import { ConfigError, loadConfig, type Config, type Env } from "./env.ts";
import { expireGenerations } from "./lifecycle/expire-generations.ts";
import { expireStaleUploads } from "./lifecycle/expire-stale-uploads.ts";
import { extractJob } from "./lifecycle/extract-job.ts";
import { importJob } from "./lifecycle/import-job.ts";
import { recoverExpiredLeases } from "./lifecycle/leases.ts";
import { sweepVideoDeletions } from "./lifecycle/purge-video-objects.ts";
import { transcodeJob } from "./lifecycle/transcode-job.ts";

/**
 * `scheduled()` export of the Worker.
 * @param controller `scheduledTime` (epoch ms) is the run's "now"; `cron` is logged
 * @throws Error when the env is invalid or a task failed (after every task ran)
 */
export async function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const runId = crypto.randomUUID();
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ cron: controller.cron, runId }).error("server misconfigured: scheduled run skipped", { problems: err.problems });
    throw new Error("server misconfigured");
  }
  const log = createLogger({ cron: controller.cron, runId }, { minLevel: config.logLevel });
  const deps = createDeps(env, config, log);
  const now = new Date(controller.scheduledTime);
  const tasks: [string, () => Promise<unknown>][] = [
    ["expire stale uploads", () => expireStaleUploads({ ...deps, log: log.child({ task: "expire-stale-uploads" }) }, { now })],
    ["sweep video deletions", () => sweepVideoDeletions({ ...deps, log: log.child({ task: "sweep-video-deletions" }) }, { now })],
    ["recover expired leases", () => recoverExpiredLeases({ ...deps, log: log.child({ task: "recover-expired-leases" }) }, extractJob, { now })],
    [
      "recover expired transcode leases",
      () => recoverExpiredLeases({ ...deps, log: log.child({ task: "recover-expired-transcode-leases" }) }, transcodeJob, { now }),
    ],
    ["recover expired import leases", () => recoverExpiredLeases({ ...deps, log: log.child({ task: "recover-expired-import-leases" }) }, importJob, { now })],
    ["expire generations", () => expireGenerations({ ...deps, log: log.child({ task: "expire-generations" }) }, { now })],
  ];
  let failure: unknown;
  for (const [name, task] of tasks) {
    try {
      const result = await task();
      log.info("scheduled task done", { task: name, result, scheduledTime: now.toISOString() });
    } catch (err) {
      log.error("scheduled task failed", { task: name, ...errorFields(err) });
      failure ??= err;
    }
  }
  if (failure) throw failure;
}
