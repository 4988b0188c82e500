import { defineConfig } from "drizzle-kit";

/** drizzle-kit: generates SQL migrations for D1 from schema/db.ts into schema/migrations. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./schema/db.ts",
  out: "./schema/migrations",
});
