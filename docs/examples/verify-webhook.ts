import { createHmac, timingSafeEqual } from "node:crypto";

/** Oldest (or furthest in the future) signature timestamp accepted, seconds. */
export const TOLERANCE_SECONDS = 300;

/**
 * Checks the `vidsnap-signature` header of a webhook request (`t=<unix seconds>,v1=<hex>`).
 * @param rawBody the request body exactly as received (before any JSON parsing)
 * @param header the `vidsnap-signature` header value
 * @param secret the endpoint's `whsec_…` secret
 * @param nowSeconds current unix time, seconds
 * @returns true when one v1 signature matches and the timestamp is within 5 minutes
 */
export function verifyWebhook(
  rawBody: string,
  header: string | null | undefined,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  let timestamp = "";
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") timestamp = value;
    else if (key === "v1") signatures.push(value);
  }
  if (!/^\d+$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest();
  return signatures.some((signature) => {
    const given = Buffer.from(signature, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
