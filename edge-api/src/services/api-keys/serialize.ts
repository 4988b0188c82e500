/**
 * Maps an `apikey` row (schema/db.ts, written by @better-auth/api-key) to the API's `ApiKey`
 * (schema/api-keys.ts): ISO times, `lastRequest` as `lastUsedAt`, and never the stored hash.
 */
import type { ApiKey } from "../../../../schema/api-keys.ts";
import type { apiKey } from "../../../../schema/db.ts";

export type ApiKeyRow = typeof apiKey.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** @param row a row of `apikey`; only the listed public fields are copied */
export function toApiKey(row: Pick<ApiKeyRow, "id" | "name" | "start" | "prefix" | "createdAt" | "expiresAt" | "lastRequest">): ApiKey {
  return {
    id: row.id,
    name: row.name,
    start: row.start,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastRequest),
  };
}
