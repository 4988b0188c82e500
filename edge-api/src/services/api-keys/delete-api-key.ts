/**
 * Revokes one API key of one user by deleting its row: the next request with that key finds no hash and
 * gets 401. Owner-scoped: another user's key id is indistinguishable from a missing one (404).
 */
import { and, eq } from "drizzle-orm";
import { apiKey } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";

/**
 * @param userId the signed-in user
 * @param apiKeyId id of the key (from `GET /v1/api-keys`)
 * @throws ProblemError `not-found` (404) when the user has no such key; Error on D1 failures
 */
export async function deleteApiKey(deps: Deps, userId: string, apiKeyId: string): Promise<void> {
  const deleted = await deps.db
    .delete(apiKey)
    .where(and(eq(apiKey.id, apiKeyId), eq(apiKey.referenceId, userId)))
    .returning({ id: apiKey.id });
  if (deleted.length === 0) throw new ProblemError("not-found", `No API key ${apiKeyId}.`);
  deps.log.info("api key revoked", { apiKeyId });
}
