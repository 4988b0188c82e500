/**
 * Workers tests of edge-api (vitest-pool-workers 0.15): the Worker runs in workerd with the bindings of
 * ../../wrangler.toml (D1, the three queues and their consumers), pointed at a real S3 server and a
 * stand-in processor started by ./global-setup.ts. The email queue is consumed by ./email-sink.js.
 *
 *   npx vitest run --config tests/workers/vitest.config.mts
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "schema/migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        main: path.join(root, "edge-api/src/index.ts"),
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            S3_ENDPOINT: inject("s3Endpoint"),
            // The S3 server's stand-in of R2's Temporary Credentials API (tools/stack/r2-temp-credentials.ts).
            CLOUDFLARE_API_BASE_URL: `${inject("s3Endpoint")}/client/v4`,
            PROCESSOR_URL: inject("processorUrl"),
            PROCESSOR_SHARED_SECRET: inject("processorSharedSecret"),
            LOG_LEVEL: "error",
            // The processor's object gives up on a silent stream after this (default 300 s): the stand-in's
            // "stall" scenario is then over in seconds. Its other scenarios never pause this long.
            PROCESSOR_IDLE_TIMEOUT_SECONDS: "2",
            // wrangler.toml's local cap is 5 GiB; the suites assert the 100 MB default. Files above 8 MiB
            // go multipart (in parts of the 5 MiB minimum): tests/workers/routes/upload-parts.test.ts.
            MAX_UPLOAD_BYTES: "104857600",
            MULTIPART_THRESHOLD_BYTES: "8388608",
            MULTIPART_PART_SIZE_BYTES: "5242880",
          },
          // Deliver queue batches quickly in tests (wrangler.toml says 1 s).
          queueConsumers: {
            "vidsnap-extract": { maxBatchSize: 1, maxBatchTimeout: 0.05, maxRetries: 3 },
            "vidsnap-transcode": { maxBatchSize: 1, maxBatchTimeout: 0.05, maxRetries: 3 },
            "vidsnap-import": { maxBatchSize: 1, maxBatchTimeout: 0.05, maxRetries: 3 },
            "vidsnap-events": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10 },
            "vidsnap-webhooks": { maxBatchSize: 5, maxBatchTimeout: 0.05, maxRetries: 12 },
          },
          // A tight limiter for tests/workers/rate-limits.test.ts, merged with wrangler.toml's AUTH/VIDEO limiters
          // (whose local limits stay high for the other suites).
          ratelimits: { TEST_TIGHT_RATE_LIMITER: { simple: { limit: 3, period: 10 } } },
          serviceBindings: { EMAIL_SINK: "email-sink" },
          workers: [
            {
              name: "email-sink",
              modules: true,
              scriptPath: path.join(here, "email-sink.js"),
              compatibilityDate: "2026-04-26",
              queueConsumers: { "vidsnap-email": { maxBatchSize: 10, maxBatchTimeout: 0.05 } },
            },
          ],
        },
      })),
    ],
    test: {
      root: here,
      include: ["**/*.test.ts"],
      globalSetup: [path.join(here, "global-setup.ts")],
      setupFiles: [path.join(here, "apply-migrations.ts")],
      testTimeout: 20_000,
      hookTimeout: 20_000,
    },
  };
});
