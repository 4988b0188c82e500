/**
 * Resolves an API key to its owner for the `/v1/*` guard (edge-api/src/auth.ts `requireUser`), through
 * @better-auth/api-key's `verifyApiKey`: SHA-256 of the key looked up in `apikey`, refused when missing
 * (revoked), disabled or expired (the plugin also deletes an expired row). A successful check records the
 * time of use (`lastRequest`, listed as `lastUsedAt`).
 */
import { eq } from "drizzle-orm";
import { API_KEY_PREFIX } from "../../../../schema/api-keys.ts";
import { user } from "../../../../schema/db.ts";
import type { SessionUser } from "../../context.ts";
import type { Database } from "../../db.ts";

/** The part of the better-auth instance (../../auth.ts) this check uses. */
export interface ApiKeyVerifier {
  api: {
    verifyApiKey(args: { body: { key: string } }): Promise<{ valid: boolean; key: { referenceId: string } | null }>;
  };
}

/** Shape of every key the plugin generates here: the prefix and 64 ASCII letters. */
const KEY_SHAPE = new RegExp(`^${API_KEY_PREFIX}[A-Za-z]{64}$`);

/** True when `value` looks like a vidsnap API key (prefix only: the shape is checked by {@link verifyApiKey}). */
export function isApiKeyLike(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

/**
 * @param auth the better-auth instance
 * @param db drizzle over D1 (reads the owner's `user` row)
 * @param key the key as the client sent it
 * @returns the owner, or null when the key is malformed, unknown (revoked), disabled or expired
 * @throws Error on D1 failures (answered 500 by the app)
 */
export async function verifyApiKey(auth: ApiKeyVerifier, db: Database, key: string): Promise<SessionUser | null> {
  if (!KEY_SHAPE.test(key)) return null;
  const result = await auth.api.verifyApiKey({ body: { key } });
  if (!result.valid || !result.key) return null;
  const [owner] = await db
    .select({ id: user.id, email: user.email, name: user.name })
    .from(user)
    .where(eq(user.id, result.key.referenceId))
    .limit(1);
  return owner ?? null;
}
