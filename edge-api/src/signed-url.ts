/**
 * Short-lived signed URL tokens: a URL that opens one resource without a bearer token, for clients that
 * cannot send headers (HLS players fetching playlists, `<img src>`, links in emails).
 *
 * A token is `<expiry>.<signature>`: `expiry` the epoch second after which it is refused, `signature` the
 * base64url HMAC-SHA256 of `"vidsnap-url-v1\n" + scope.join("\n") + "\n" + expiry` under a key derived
 * (HKDF-SHA-256, info {@link HKDF_INFO}) from BETTER_AUTH_SECRET, so the key serves nothing else. The
 * `scope` names what the token opens, e.g. `["hls", videoId, transcodeId, attempt]`: it is not carried in
 * the token but rebuilt by the route from its own path and record, so a token for one resource never
 * opens another, and a new attempt (retry) makes the older tokens useless. Rotating BETTER_AUTH_SECRET
 * invalidates every token.
 */
import { fromBase64Url, toBase64Url } from "./base64url.ts";
import { derivedKey } from "./derived-key.ts";

const HKDF_INFO = "vidsnap signed url v1";
const PREFIX = "vidsnap-url-v1";

/** Why {@link verifyUrlToken} refused a token. */
export type UrlTokenRefusal = "malformed" | "expired" | "bad-signature";

/** The HMAC key of `authSecret` for URL tokens. */
function tokenKey(authSecret: string): Promise<CryptoKey> {
  return derivedKey(authSecret, HKDF_INFO, { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]);
}

/** @throws Error when a scope part contains a newline (it would make two scopes sign the same text) */
function signedText(scope: readonly string[], expiry: number): Uint8Array {
  for (const part of scope) if (part.includes("\n")) throw new Error("a URL token scope part must not contain a newline");
  return new TextEncoder().encode([PREFIX, ...scope, String(expiry)].join("\n"));
}

/**
 * @param authSecret BETTER_AUTH_SECRET (Config.betterAuthSecret)
 * @param scope what the token opens (rebuilt identically by the verifier)
 * @param expiresAt epoch seconds after which the token is refused
 * @returns the token, URL-safe (`[0-9]+\.[A-Za-z0-9_-]{43}`)
 */
export async function signUrlToken(authSecret: string, scope: readonly string[], expiresAt: number): Promise<string> {
  const expiry = Math.floor(expiresAt);
  const mac = await crypto.subtle.sign("HMAC", await tokenKey(authSecret), signedText(scope, expiry));
  return `${expiry}.${toBase64Url(new Uint8Array(mac))}`;
}

/**
 * @param token the `token` query value as received
 * @param now epoch ms of the check
 * @returns `{ok: true, expiresAt}` (epoch seconds), or `{ok: false, reason}`
 */
export async function verifyUrlToken(
  authSecret: string,
  scope: readonly string[],
  token: string,
  now = Date.now(),
): Promise<{ ok: true; expiresAt: number } | { ok: false; reason: UrlTokenRefusal }> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: "malformed" };
  const expiry = Number(m[1]);
  // Constant-time comparison by WebCrypto's verify.
  const valid = await crypto.subtle.verify("HMAC", await tokenKey(authSecret), fromBase64Url(m[2]!), signedText(scope, expiry));
  if (!valid) return { ok: false, reason: "bad-signature" };
  if (expiry * 1000 <= now) return { ok: false, reason: "expired" };
  return { ok: true, expiresAt: expiry };
}
