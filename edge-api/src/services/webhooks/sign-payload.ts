/**
 * The `vidsnap-signature` header of a webhook try: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * (the scheme of Stripe and Mux). The HMAC key is the whole secret string (`whsec_…`) as UTF-8; the signed
 * text is the timestamp, a dot and the exact raw body. Receivers verify it as in docs/webhooks.md
 * (docs/examples/verify-webhook.ts).
 */

/**
 * @param secret the endpoint's `whsec_…` secret
 * @param rawBody the exact bytes sent, as a string
 * @param timestampSeconds unix time of the try, seconds
 * @returns the header value
 */
export async function signatureHeader(secret: string, rawBody: string, timestampSeconds: number): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestampSeconds}.${rawBody}`));
  const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `t=${timestampSeconds},v1=${hex}`;
}
