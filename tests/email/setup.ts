/** Per-file setup inside workerd: applies the D1 migrations (idempotent, tracked in `d1_migrations`). */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { TestBindings } from "./helpers.ts";

await applyD1Migrations((env as unknown as TestBindings).DB, (env as unknown as TestBindings).TEST_MIGRATIONS);
