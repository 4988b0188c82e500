/**
 * The per-generation callback token (`gcb_…`) a generator sends back with `POST /v1/generations/{id}/callback`
 * (header `vidsnap-callback-token`). It is an HMAC-SHA-256 of the generation id under a key derived from
 * BETTER_AUTH_SECRET (../../derived-key.ts, its own HKDF info), so it can be put into every try of the
 * request without being stored; D1 keeps only its SHA-256 (`generations.callback_token_hash`), compared in
 * constant time. A token of another generation, a forged one, or one made under another BETTER_AUTH_SECRET
 * does not match.
 */
import { toBase64Url } from "../../base64url.ts";
import { derivedKey } from "../../derived-key.ts";

export const CALLBACK_TOKEN_PREFIX = "gcb_";
/** The request header carrying the token. */
export const CALLBACK_TOKEN_HEADER = "vidsnap-callback-token";
const HKDF_INFO = "vidsnap generation callback token v1";

/** @returns `gcb_` + base64url of HMAC-SHA-256(derived key, generationId) */
export async function callbackToken(authSecret: string, generationId: string): Promise<string> {
  const key = await derivedKey(authSecret, HKDF_INFO, { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(generationId));
  return CALLBACK_TOKEN_PREFIX + toBase64Url(new Uint8Array(mac));
}

/** @returns hex SHA-256 of `token` (what D1 stores) */
export async function callbackTokenHash(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param presented the header's value (any string, possibly empty)
 * @param storedHash the row's `callback_token_hash`
 * @returns whether they match; the comparison of the two 64-character digests takes the same time wherever they differ
 */
export async function callbackTokenMatches(presented: string, storedHash: string): Promise<boolean> {
  const hash = await callbackTokenHash(presented);
  if (hash.length !== storedHash.length) return false;
  let diff = 0;
  for (let i = 0; i < hash.length; i++) diff |= hash.charCodeAt(i) ^ storedHash.charCodeAt(i);
  return diff === 0;
}
