/**
 * Webhook signing secrets: generation, and their storage form in `webhook_endpoints.secret_ciphertext`.
 *
 * A secret must stay usable to sign every delivery, so it cannot be stored as a one-way hash. It is
 * encrypted with AES-256-GCM (WebCrypto) under a key derived with HKDF-SHA-256 from BETTER_AUTH_SECRET
 * (info {@link HKDF_INFO}, so the key is used for nothing else), with the endpoint id as associated data (a
 * ciphertext copied onto another endpoint's row does not decrypt). A database dump or backup alone does
 * not reveal the secrets. Consequence: rotating BETTER_AUTH_SECRET makes the stored secrets unreadable;
 * their deliveries then fail with "signing secret unreadable" until each endpoint's secret is rotated
 * (`POST /v1/webhooks/{id}/rotate-secret`; docs/operations.md).
 */
import { fromBase64Url, toBase64Url } from "../../base64url.ts";
import { derivedKey } from "../../derived-key.ts";

/** Prefix of every signing secret, as Stripe does (`whsec_`). */
export const SECRET_PREFIX = "whsec_";
const HKDF_INFO = "vidsnap webhook signing secret v1";
const FORMAT = "v1";


/** Raised when a stored secret cannot be decrypted (wrong BETTER_AUTH_SECRET, corrupted row). */
export class SecretUnreadableError extends Error {
  override name = "SecretUnreadableError";
}

/** @returns `whsec_` + base64url of 32 random bytes (256 bits) */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * @param authSecret BETTER_AUTH_SECRET (Config.betterAuthSecret)
 * @param endpointId the row's id (associated data)
 * @param secret the `whsec_…` secret
 * @returns `v1.<iv base64url>.<ciphertext+tag base64url>`
 */
export async function encryptSigningSecret(authSecret: string, endpointId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(endpointId) },
    await storageKey(authSecret),
    new TextEncoder().encode(secret),
  );
  return `${FORMAT}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/**
 * @returns the `whsec_…` secret
 * @throws SecretUnreadableError when the value is malformed or does not decrypt under this key and id
 */
export async function decryptSigningSecret(authSecret: string, endpointId: string, stored: string): Promise<string> {
  const [format, iv, sealed] = stored.split(".");
  if (format !== FORMAT || !iv || !sealed) throw new SecretUnreadableError("unknown secret format");
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: new TextEncoder().encode(endpointId) },
      await storageKey(authSecret),
      fromBase64Url(sealed),
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new SecretUnreadableError("the signing secret does not decrypt with the current BETTER_AUTH_SECRET");
  }
}

/** The AES-GCM key of `authSecret` for stored signing secrets. */
function storageKey(authSecret: string): Promise<CryptoKey> {
  return derivedKey(authSecret, HKDF_INFO, { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]);
}
