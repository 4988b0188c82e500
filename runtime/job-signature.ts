/**
 * Signatures of the Worker's job requests to the processor (`POST /jobs`): HMAC-SHA256 with the secret
 * both share (`PROCESSOR_SHARED_SECRET`) over `v1:<unix seconds>:<exact body bytes>`, sent as
 * `x-vidsnap-timestamp: <unix seconds>` and `x-vidsnap-signature: v1=<hex>`. Web Crypto only, so the
 * same code signs in the Worker and the tests and verifies in the processor (Node 20+ has
 * `globalThis.crypto.subtle`).
 */

/** Header carrying the signing time, unix seconds. */
export const TIMESTAMP_HEADER = "x-vidsnap-timestamp";
/** Header carrying `v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = "x-vidsnap-signature";
/**
 * Header of a job request (not signed: it asks for nothing a caller without the signature could get): how
 * long the job may wait for a free slot, seconds (absent or 0: the processor answers 503 at once when busy).
 */
export const SLOT_WAIT_HEADER = "x-vidsnap-slot-wait";
/** Largest accepted difference between the signing time and the verifier's clock, seconds. */
export const MAX_SIGNATURE_SKEW_SECONDS = 300;
/** Shortest accepted shared secret, characters. */
export const MIN_SHARED_SECRET_LENGTH = 32;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

function signedBytes(timestamp: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`v1:${timestamp}:`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

const toBytes = (body: string | Uint8Array) => (typeof body === "string" ? encoder.encode(body) : body);

/**
 * Signs a job request body.
 * @param secret the shared secret
 * @param body the exact bytes (or UTF-8 text) sent as the request body
 * @param nowSeconds signing time, unix seconds (tests pass other times)
 * @returns the two headers to send
 */
export async function signJobRequest(
  secret: string,
  body: string | Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<typeof TIMESTAMP_HEADER | typeof SIGNATURE_HEADER, string>> {
  const timestamp = String(Math.floor(nowSeconds));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), signedBytes(timestamp, toBytes(body))));
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `v1=${hex}` };
}

/** Why a signature was refused (never echoes the expected value). */
export type SignatureRefusal = "missing" | "malformed" | "stale" | "mismatch";

/**
 * Checks a job request's signature. The MAC comparison is Web Crypto's `verify`, which compares in
 * constant time.
 * @param headers the request's timestamp and signature header values (undefined when absent)
 * @param nowSeconds the verifier's clock, unix seconds
 * @returns `{ ok: true }`, or the refusal reason
 */
export async function verifyJobRequest(
  secret: string,
  body: string | Uint8Array,
  headers: { timestamp: string | undefined; signature: string | undefined },
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<{ ok: true } | { ok: false; reason: SignatureRefusal }> {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: "missing" };
  const hex = /^v1=([0-9a-f]{64})$/.exec(signature)?.[1];
  if (!/^\d{1,12}$/.test(timestamp) || !hex) return { ok: false, reason: "malformed" };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SIGNATURE_SKEW_SECONDS) return { ok: false, reason: "stale" };
  const mac = new Uint8Array(32);
  for (let i = 0; i < 32; i++) mac[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), mac, signedBytes(timestamp, toBytes(body)));
  return ok ? { ok: true } : { ok: false, reason: "mismatch" };
}
