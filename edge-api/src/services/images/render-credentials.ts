/**
 * Storage credentials of renders of images on demand (docs/architecture.md "Storage credentials"): one
 * read-only R2 temporary credential for a video's source object, minted on the first render of that video
 * in this isolate and reused while it has {@link MIN_REMAINING_SECONDS} left, so that a burst of renders of
 * one video costs one call to the Temporary Credentials API. Held in memory only (never stored or logged).
 */
import { sourceObjectKey } from "../../../../schema/object-keys.ts";
import { renderStorageScopes, type JobCredentials } from "../../../../schema/storage-credentials.ts";
import type { Config } from "../../env.ts";
import { mintJobCredentials } from "../../storage/temp-credentials.ts";

/** Lifetime of a render credential, seconds. */
export const RENDER_CREDENTIALS_TTL_SECONDS = 900;
/**
 * A cached credential is reused only while it outlives a render (RENDER_REQUEST_TIMEOUT_MS, 45 s) and the
 * processor's presigned source URL (RENDER_TIMEOUT_SECONDS + 60 s), seconds.
 */
export const MIN_REMAINING_SECONDS = 180;
/** Most videos whose credentials one isolate keeps (the oldest is dropped beyond). */
const MAX_CACHED = 256;

const CACHE = new Map<string, JobCredentials>();

/**
 * @param config the Worker config (buckets, Temporary Credentials API)
 * @param userId / videoId the video whose source the render reads
 * @returns `{ read }`: object-read-only on the source object, with at least {@link MIN_REMAINING_SECONDS} left
 * @throws CredentialsMintError when none can be minted
 */
export async function renderCredentials(config: Config, userId: string, videoId: string): Promise<JobCredentials> {
  const key = sourceObjectKey(userId, videoId);
  const cached = CACHE.get(key);
  const now = Math.floor(Date.now() / 1000);
  if (cached?.read && cached.read.expiresAt - now >= MIN_REMAINING_SECONDS) return cached;
  const minted = await mintJobCredentials(config, renderStorageScopes({ userId, videoId }, config), RENDER_CREDENTIALS_TTL_SECONDS);
  CACHE.delete(key);
  CACHE.set(key, minted);
  if (CACHE.size > MAX_CACHED) CACHE.delete(CACHE.keys().next().value!);
  return minted;
}
