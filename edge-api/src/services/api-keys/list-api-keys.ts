/**
 * Lists one user's API keys, newest first, without secrets (the hash stays in D1). Expired keys are listed
 * until the api-key plugin's cleanup removes them (on its next key creation or verification).
 */
import { desc, eq } from "drizzle-orm";
import type { ApiKeyList } from "../../../../schema/api-keys.ts";
import { apiKey } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { toApiKey } from "./serialize.ts";

/**
 * @param userId the signed-in user
 * @returns `{data: [ApiKey]}` of that user only
 * @throws Error on D1 failures
 */
export async function listApiKeys(deps: Deps, userId: string): Promise<ApiKeyList> {
  const rows = await deps.db
    .select({
      id: apiKey.id,
      name: apiKey.name,
      start: apiKey.start,
      prefix: apiKey.prefix,
      createdAt: apiKey.createdAt,
      expiresAt: apiKey.expiresAt,
      lastRequest: apiKey.lastRequest,
    })
    .from(apiKey)
    .where(eq(apiKey.referenceId, userId))
    .orderBy(desc(apiKey.createdAt), desc(apiKey.id));
  return { data: rows.map(toApiKey) };
}
