/**
 * Trusted origins and the cross-site request check of cookie sessions on `/v1/*`.
 *
 * A browser attaches better-auth's session cookie to requests other sites make (SameSite=Lax still sends it
 * from a sibling subdomain, which counts as the same site, and a form POST needs no preflight), so a `/v1`
 * mutation signed in with the cookie must prove it comes from a page the API trusts:
 * - `Origin` is a trusted origin ({@link isTrustedOrigin}: PUBLIC_BASE_URL or TRUSTED_ORIGINS, the list CORS
 *   and better-auth use), or
 * - `Sec-Fetch-Site: same-origin` (a header pages cannot set; browsers that leave out `Origin` still send it).
 * Otherwise 403 `cross-site-request`. Safe methods (GET, HEAD, OPTIONS) change nothing and pass. Bearer
 * tokens and API keys are sent by the client itself, never attached by a browser, so they are not checked.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context.ts";
import type { Config } from "./env.ts";
import { ProblemError } from "./errors.ts";

/** Methods that change nothing, so a cross-site request with them gains an attacker nothing. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** `scheme://host[:port]` of a URL (lower-case host, default port dropped), or the text itself when it is not a URL. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * Whether a browser `Origin` is one the API trusts: PUBLIC_BASE_URL's or one of TRUSTED_ORIGINS (exact scheme,
 * host and port). CORS, better-auth's `trustedOrigins` and {@link refuseCrossSiteCookieRequest} use this list.
 * @param origin the `Origin` header; `null` (opaque origins) is never trusted
 */
export function isTrustedOrigin(config: Pick<Config, "publicBaseUrl" | "trustedOrigins">, origin: string): boolean {
  if (origin === "null") return false;
  const candidate = originOf(origin);
  return candidate === originOf(config.publicBaseUrl) || config.trustedOrigins.some((trusted) => originOf(trusted) === candidate);
}

/**
 * The check of a `/v1` request authenticated by the session cookie (see the module comment).
 * @throws ProblemError `cross-site-request` (403) for a non-GET/HEAD/OPTIONS request whose `Origin` is missing
 *   or untrusted and whose `Sec-Fetch-Site` is not `same-origin`
 */
export function refuseCrossSiteCookieRequest(c: Context<AppEnv>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header("origin");
  const fetchSite = c.req.header("sec-fetch-site");
  // Either is enough: the Fetch standard lets a same-origin POST from a page under `Referrer-Policy: no-referrer`
  // (the dashboard's) say `Origin: null`, while `Sec-Fetch-Site` is set by the browser alone.
  if ((origin !== undefined && isTrustedOrigin(c.var.config, origin)) || fetchSite === "same-origin") return;
  c.var.log.warn("cross-site request refused", { origin: origin?.slice(0, 200) ?? null, fetchSite: fetchSite?.slice(0, 40) ?? null });
  throw new ProblemError(
    "cross-site-request",
    "A request signed in with the session cookie must come from this site's pages (a trusted `Origin`). API clients send `Authorization: Bearer <token>` or an API key.",
  );
}
