/**
 * drizzle-orm over the D1 binding, with the shared tables of schema/db.ts (better-auth core tables and
 * `videos`). Cheap to create: make one per request or queue batch.
 */
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "../../schema/db.ts";

export type Database = DrizzleD1Database<typeof schema>;

/** @param d1 the `DB` binding */
export function createDb(d1: D1Database): Database {
  return drizzle(d1, { schema });
}

export { schema };
