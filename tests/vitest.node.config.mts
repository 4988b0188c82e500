/**
 * Node-side suites: `tests/processor` (the ffmpeg-container server with real ffmpeg and a local
 * SigV4-checking S3 server), `tests/e2e` (the whole local stack over HTTP), `tests/browser` (the web
 * dashboard in Chromium against the whole stack) and `tests/tools` (local tooling on its own, e.g. the local S3 server).
 * Run: `npx vitest run --config tests/vitest.node.config.mts [tests/processor|tests/e2e]`. `npm test` runs
 * tests/processor as its own suite on production's Node LTS (tools/test.ts, tools/node-lts.ts) and the rest,
 * without it, on the current Node.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export default defineConfig({
  root,
  test: {
    include: ["tests/processor/**/*.test.ts", "tests/e2e/**/*.test.ts", "tests/chaos/**/*.test.ts", "tests/deploy/**/*.test.ts", "tests/cli/**/*.test.ts", "tests/browser/**/*.test.ts", "tests/tools/**/*.test.ts"],
    environment: "node",
    // Real ffmpeg jobs and servers: generous per-test limits, no retries that would hide flakiness.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files run in parallel workers (2 cores); tests inside a file run one after the other.
    pool: "forks",
  },
});
