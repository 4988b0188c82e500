/**
 * email-consumer tests, run inside workerd with @cloudflare/vitest-pool-workers 0.15:
 * `npx vitest run --config tests/email/vitest.config.mts`.
 *
 * The Worker's own wrangler.toml provides D1 (`DB`) and the vars; miniflare bindings add the migrations
 * (`TEST_MIGRATIONS`, applied by `setup.ts`) and point `POSTMARK_API_HOST` at the Postmark mock started by
 * `global-setup.ts`. `POSTMARK_SERVER_TOKEN` stays unset (record mode, like `wrangler dev`): tests that
 * send pass their own token in an env override.
 */
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const here = (relative: string) => decodeURIComponent(new URL(relative, import.meta.url).pathname);

const migrations = await readD1Migrations(here("../../schema/migrations"));

export default defineConfig({
  // Repository root, whatever the cwd: caches go to node_modules/.vite, not under tests/email.
  root: here("../.."),
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: here("../../email-consumer/src/index.ts"),
      wrangler: { configPath: here("../../email-consumer/wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          POSTMARK_API_HOST: inject("postmarkHost"),
        },
      },
    })),
  ],
  test: {
    name: "email",
    include: ["tests/email/**/*.test.ts"],
    globalSetup: [here("./global-setup.ts")],
    setupFiles: [here("./setup.ts")],
  },
});
