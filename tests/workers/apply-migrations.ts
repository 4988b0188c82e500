/** Setup file (runs in workerd before each test file): applies schema/migrations to the test D1. */
import { applyD1Migrations } from "cloudflare:test";
import { testEnv } from "./support/env.ts";

await applyD1Migrations(testEnv.DB, testEnv.TEST_MIGRATIONS);
