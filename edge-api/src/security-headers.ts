/**
 * Security headers on every response of the API, including problems, 404s, `/openapi.json`,
 * better-auth's `/api/auth/*` answers and the 302 of `images.zip`:
 * - `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`;
 * - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` (the API serves JSON only), except
 *   the HTML page `/docs`, which keeps its own CSP (DOCS_CSP of ./routes/meta/docs.ts: scripts from this origin only);
 * - `Cross-Origin-Resource-Policy: same-origin`: CORP only applies to `no-cors` loads (img, script), so
 *   CORS `fetch` calls from TRUSTED_ORIGINS are unaffected;
 * - `Strict-Transport-Security` when PUBLIC_BASE_URL is https (not on the local http server);
 * - `Cache-Control: no-store` when the response does not set its own (every answer of the API is per user
 *   or per request; `/v1/*` sets `private, no-store` itself).
 * Registered first, so it also sees responses of the env check and of `app.onError`.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.ts";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-resource-policy": "same-origin",
};

export const HSTS = "max-age=63072000; includeSubDomains";

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const baseUrl = c.env?.PUBLIC_BASE_URL?.trim() ?? "";
  let headers = c.res.headers;
  try {
    headers.set("x-content-type-options", "nosniff");
  } catch {
    // Immutable headers (a Response passed through from fetch): copy the response.
    c.res = new Response(c.res.body, c.res);
    headers = c.res.headers;
  }
  const docsCsp = c.req.path === "/docs" && c.res.status === 200 ? headers.get("content-security-policy") : null;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  if (docsCsp) headers.set("content-security-policy", docsCsp);
  if (baseUrl.toLowerCase().startsWith("https://")) headers.set("strict-transport-security", HSTS);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
};
