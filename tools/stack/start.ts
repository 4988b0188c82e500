/**
 * `npm start`: brings up the whole local vidsnap stack on 127.0.0.1 and stops all of it on Ctrl-C.
 * Ports and data folder can be moved with VIDSNAP_API_PORT, VIDSNAP_PROCESSOR_PORT, VIDSNAP_S3_PORT and
 * VIDSNAP_DATA_DIR; POSTMARK_SERVER_TOKEN / POSTMARK_API_HOST make the email consumer send through
 * Postmark (or a Postmark-speaking server) instead of recording emails.
 * Prints `vidsnap API ready at <url>` once everything answers.
 * Checks ffmpeg and ffprobe first (./ffmpeg-preflight.ts): when either does not run it prints how to install
 * them and exits 1 before starting anything.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { BIN } from "../paths.ts";
import { ffmpegPreflight } from "./ffmpeg-preflight.ts";
import { startStack } from "./stack.ts";

const port = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

if (!existsSync(path.join(BIN, "wrangler"))) {
  console.error("Dependencies are missing: run `npm ci` first.");
  process.exit(1);
}

const preflight = await ffmpegPreflight("npm start");
if (!preflight.ok) {
  console.error(preflight.message);
  process.exit(1);
}
for (const line of preflight.lines) console.log(`[stack] ${line}`);

const stack = await startStack({
  dataDir: process.env.VIDSNAP_DATA_DIR,
  apiPort: port("VIDSNAP_API_PORT"),
  processorPort: port("VIDSNAP_PROCESSOR_PORT"),
  s3Port: port("VIDSNAP_S3_PORT"),
  postmarkServerToken: process.env.POSTMARK_SERVER_TOKEN || undefined,
  postmarkApiHost: process.env.POSTMARK_API_HOST || undefined,
  maxConcurrentJobs: port("MAX_CONCURRENT_JOBS"),
}).catch((err: unknown) => {
  console.error(`[stack] failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

console.log(`\nvidsnap API ready at ${stack.apiUrl}`);
console.log(`  S3 (local R2): ${stack.s3Endpoint}   processor: ${stack.processorUrl}`);
console.log(
  process.env.POSTMARK_SERVER_TOKEN
    ? `  emails: sent through Postmark${process.env.POSTMARK_API_HOST ? ` at ${process.env.POSTMARK_API_HOST}` : ""}`
    : "  emails: recorded in the D1 table `emails` and the wrangler log, not sent (no POSTMARK_SERVER_TOKEN)",
);
console.log(`  try: npm run demo   (Ctrl-C stops everything)\n`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`[stack] ${signal}: stopping…`);
  await stack.stop();
  console.log("[stack] stopped");
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
