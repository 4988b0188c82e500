/**
 * Keys derived from BETTER_AUTH_SECRET for one purpose each (HKDF-SHA-256, empty salt, `info` naming the
 * purpose), so no key serves two things and no second secret has to be deployed. Each (secret, purpose) is
 * derived once per isolate.
 */
const keys = new Map<string, Promise<CryptoKey>>();

/**
 * @param authSecret BETTER_AUTH_SECRET
 * @param info the purpose, e.g. `vidsnap signed url v1` (changing it changes the key)
 * @param algorithm the derived key's algorithm, e.g. `{name: "HMAC", hash: "SHA-256", length: 256}`
 * @param usages what the key may do, e.g. `["sign", "verify"]`
 * @returns the non-extractable key
 */
export function derivedKey(
  authSecret: string,
  info: string,
  algorithm: SubtleCryptoImportKeyAlgorithm,
  usages: string[],
): Promise<CryptoKey> {
  const id = `${info}\u0000${authSecret}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(authSecret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
        material,
        algorithm,
        false,
        usages,
      );
    })();
    keys.set(id, key);
  }
  return key;
}
