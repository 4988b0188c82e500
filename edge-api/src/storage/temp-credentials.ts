/**
 * Per-job storage credentials (docs/architecture.md "Storage credentials"): R2 temporary credentials minted
 * through Cloudflare's Temporary Credentials API, `POST {CLOUDFLARE_API_BASE_URL}/accounts/{account}/r2/
 * temp-access-credentials` with `Authorization: Bearer R2_PARENT_API_TOKEN` and `{bucket, parentAccessKeyId,
 * permission, ttlSeconds, objects?, prefixes?}` → `{result: {accessKeyId, secretAccessKey, sessionToken}}`
 * (https://developers.cloudflare.com/r2/api/s3/temporary-credentials/). One API call per role (read, write),
 * made in parallel: one round trip per job or render.
 *
 * Credentials are secrets: nothing here logs them, and an error names the API's status and error codes
 * only (never the token, the body sent or the credentials answered).
 */
import type { Config } from "../env.ts";
import { JobCredentials, type JobStorageScopes, type StorageCredential, type StorageScope } from "../../../schema/storage-credentials.ts";

/** Longest lifetime R2 accepts for temporary credentials, seconds (7 days). */
export const MAX_TEMP_CREDENTIALS_TTL_SECONDS = 604_800;
/** Timeout of one call to the Temporary Credentials API, ms. */
export const MINT_TIMEOUT_MS = 10_000;

/** The API refused or failed to mint (its status; `transient` for 429/5xx and network faults). */
export class CredentialsMintError extends Error {
  override name = "CredentialsMintError";
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Mints one credential.
 * @param config the Worker config (`tempCredentials`, and `s3.accessKeyId`: the parent access key)
 * @param scope bucket, permission, objects or prefixes
 * @param ttlSeconds lifetime, clamped to 1..{@link MAX_TEMP_CREDENTIALS_TTL_SECONDS}
 * @returns the credential with its scope and expiry (unix seconds)
 * @throws CredentialsMintError when the API answers anything but a credential, or cannot be reached
 */
export async function mintCredential(
  config: Pick<Config, "tempCredentials" | "s3">,
  scope: StorageScope,
  ttlSeconds: number,
): Promise<StorageCredential> {
  const ttl = Math.min(MAX_TEMP_CREDENTIALS_TTL_SECONDS, Math.max(1, Math.ceil(ttlSeconds)));
  const { apiBaseUrl, accountId, apiToken } = config.tempCredentials;
  const url = `${apiBaseUrl}/accounts/${encodeURIComponent(accountId)}/r2/temp-access-credentials`;
  const expiresAt = Math.floor(Date.now() / 1000) + ttl;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ ...scope, parentAccessKeyId: config.s3.accessKeyId, ttlSeconds: ttl }),
      signal: AbortSignal.timeout(MINT_TIMEOUT_MS),
    });
  } catch (err) {
    throw new CredentialsMintError(`the Temporary Credentials API could not be reached (${err instanceof Error ? err.name : "error"})`, true);
  }
  const body = (await res.json().catch(() => null)) as { success?: boolean; errors?: { code?: unknown }[]; result?: Record<string, unknown> } | null;
  const result = body?.result;
  if (!res.ok || !body?.success || typeof result?.accessKeyId !== "string" || typeof result.secretAccessKey !== "string" || typeof result.sessionToken !== "string") {
    const codes = (body?.errors ?? []).map((e) => e.code).filter((c) => typeof c === "number").join(",");
    throw new CredentialsMintError(
      `the Temporary Credentials API answered HTTP ${res.status}${codes ? ` (error ${codes})` : ""} for bucket ${scope.bucket}`,
      res.status === 429 || res.status >= 500,
    );
  }
  return { ...scope, accessKeyId: result.accessKeyId, secretAccessKey: result.secretAccessKey, sessionToken: result.sessionToken, expiresAt };
}

/**
 * Mints the credentials of one job or render: one per role asked, in parallel.
 * @param scopes what the job reads (`read`) and writes (`write`)
 * @param ttlSeconds lifetime of each (the job's deadline plus {@link CREDENTIALS_TTL_MARGIN_SECONDS})
 * @throws CredentialsMintError (the first failure)
 */
export async function mintJobCredentials(config: Pick<Config, "tempCredentials" | "s3">, scopes: JobStorageScopes, ttlSeconds: number): Promise<JobCredentials> {
  const [read, write] = await Promise.all([
    scopes.read ? mintCredential(config, scopes.read, ttlSeconds) : undefined,
    scopes.write ? mintCredential(config, scopes.write, ttlSeconds) : undefined,
  ]);
  return JobCredentials.parse({ ...(read ? { read } : {}), ...(write ? { write } : {}) });
}

/**
 * Added to a job's deadline for its credentials' lifetime, seconds: the wait for a processor slot (at most
 * 120 s), the source's probe before the deadline's clock starts, and the final uploads.
 */
export const CREDENTIALS_TTL_MARGIN_SECONDS = 600;
