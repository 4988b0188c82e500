/** Maps `generators` rows to the API's `Generator` (schema/api.ts): times become ISO strings; the secret never leaves. */
import type { Generator } from "../../../../schema/api.ts";
import type { generators } from "../../../../schema/db.ts";

export type GeneratorRow = typeof generators.$inferSelect;

/** @returns the generator as the API shows it */
export function toGenerator(row: GeneratorRow): Generator {
  return { id: row.id, name: row.name, url: row.url, createdAt: row.createdAt.toISOString() };
}
