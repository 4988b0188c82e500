/**
 * Creates an API key for one user through @better-auth/api-key (server-side call, so the plugin takes the
 * owner from `userId` and no HTTP session is involved): the plugin generates `vsk_` + 64 random letters,
 * stores only its SHA-256 (base64url) and the first characters (`start`), and answers the key once.
 *
 * Rules: who may call this is decided by the route (a signed-in session, not an API key: a key cannot mint
 * keys, edge-api/src/routes/api-keys/create.ts). `expiresInDays` 1..365 (schema/api-keys.ts) or no expiry.
 */
import type { CreateApiKeyRequest, CreatedApiKey } from "../../../../schema/api-keys.ts";
import type { Auth } from "../../auth.ts";
import type { Deps } from "../../context.ts";
import { toApiKey } from "./serialize.ts";

const SECONDS_PER_DAY = 86_400;

/**
 * @param auth the better-auth instance (edge-api/src/auth.ts `getAuth`)
 * @param userId owner of the new key
 * @param input `{name, expiresInDays?}` (validated by the route)
 * @returns the key's public fields and the secret key itself
 * @throws better-auth `APIError` on plugin-side validation failures (not expected after the route's schema); Error on D1 failures
 */
export async function createApiKey(deps: Deps, auth: Auth, userId: string, input: CreateApiKeyRequest): Promise<CreatedApiKey> {
  const created = await auth.api.createApiKey({
    body: {
      userId,
      name: input.name,
      expiresIn: input.expiresInDays === undefined ? null : input.expiresInDays * SECONDS_PER_DAY,
    },
  });
  deps.log.info("api key created", { apiKeyId: created.id, expiresAt: created.expiresAt ?? null });
  return {
    apiKey: toApiKey({
      id: created.id,
      name: created.name ?? null,
      start: created.start ?? null,
      prefix: created.prefix ?? null,
      createdAt: new Date(created.createdAt),
      expiresAt: created.expiresAt ? new Date(created.expiresAt) : null,
      lastRequest: null,
    }),
    key: created.key,
  };
}
