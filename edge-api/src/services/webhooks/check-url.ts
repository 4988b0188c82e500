/**
 * The rules a webhook endpoint URL must follow (server-side request forgery guard), as a pure function of
 * the URL and ENVIRONMENT, applied when an endpoint is registered and again before every send.
 *
 * Everywhere: an absolute http(s) URL of at most 2048 characters, no user name or password, not an IP
 * literal in a private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 — cloud metadata
 * services live there — fe80::/10), shared (100.64/10), unspecified, multicast or reserved range. The
 * fragment is dropped.
 * Outside ENVIRONMENT=local also: https only, the default port only, no loopback literal (127/8, ::1), no
 * `localhost` / `*.localhost`, and a host name with at least one dot.
 * Locally (tests, `npm start`): http and any port on loopback are allowed, so a receiver on 127.0.0.1 works.
 *
 * Host names are not resolved here (Workers have no DNS API); a public name pointing at a private address
 * is stopped by the platform: `fetch` from a deployed Worker cannot reach private networks.
 */

export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Longest accepted URL, characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * @param raw the URL as given by the user
 * @param environment ENVIRONMENT (`local`, `staging`, `production`)
 * @returns the normalised URL (WHATWG serialisation, no fragment), or the reason it is refused
 */
export function checkWebhookUrl(raw: string, environment: string): WebhookUrlCheck {
  const local = environment === "local";
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("must be an absolute URL");
  }
  if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
    return refuse(local ? "must use http or https" : "must use https");
  }
  if (url.username || url.password) return refuse("must not contain a user name or password");
  if (!local && url.port !== "") return refuse("must use the default port (443)");

  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return refuse("must have a host");
  const ipv4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (ipv4) {
    const range = ipv4Range(ipv4.slice(1).map(Number) as [number, number, number, number]);
    if (range === "loopback" && local) return accept(url);
    if (range) return refuse(`must not point to ${range} addresses`);
    return accept(url);
  }
  if (host.startsWith("[")) {
    const groups = expandIpv6(host.slice(1, -1));
    if (!groups) return refuse("must have a valid host");
    const range = ipv6Range(groups);
    if (range === "loopback" && local) return accept(url);
    if (range) return refuse(`must not point to ${range} addresses`);
    return accept(url);
  }
  if (host === "localhost" || host.endsWith(".localhost")) {
    return local ? accept(url) : refuse("must not point to localhost");
  }
  if (!local && !host.includes(".")) return refuse("must use a fully qualified host name");
  return accept(url);
}

function accept(url: URL): WebhookUrlCheck {
  url.hash = "";
  return { ok: true, url: url.href };
}

function refuse(reason: string): WebhookUrlCheck {
  return { ok: false, reason };
}

type Range = "private" | "loopback" | "link-local" | "shared" | "unspecified" | "multicast" | "reserved";

/** Special-purpose range of an IPv4 address (RFC 6890), or null for a public one. */
function ipv4Range([a, b]: [number, number, number, number]): Range | null {
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 169 && b === 254) return "link-local";
  if (a === 100 && b >= 64 && b <= 127) return "shared";
  if (a === 0) return "unspecified";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved";
  return null;
}

/** Special-purpose range of an IPv6 address given as 8 16-bit groups, or null for a public one. */
function ipv6Range(g: number[]): Range | null {
  const [g0 = 0, , , , , g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroPrefix = g.slice(0, 5).every((x) => x === 0);
  if (zeroPrefix && g5 === 0xffff) {
    // IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address it carries.
    return ipv4Range([g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff]) ?? null;
  }
  if (zeroPrefix && g5 === 0 && g6 === 0) return g7 === 1 ? "loopback" : g7 === 0 ? "unspecified" : "reserved";
  if ((g0 & 0xfe00) === 0xfc00) return "private";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  return null;
}

/**
 * `fe80::1` → 8 numbers; null when not a valid IPv6 literal. The input is a WHATWG URL's host, which
 * always serialises IPv6 in compressed hex (`[::ffff:127.0.0.1]` becomes `::ffff:7f00:1`).
 */
function expandIpv6(text: string): number[] | null {
  const parts = text.split("::");
  if (parts.length > 2) return null;
  const words = (s: string | undefined) => (s ? s.split(":") : []);
  const head = words(parts[0]);
  const rest = words(parts[1]);
  const missing = 8 - head.length - rest.length;
  if (parts.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(parts.length === 2 ? missing : 0).fill("0"), ...rest];
  const numbers = all.map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN));
  return numbers.some(Number.isNaN) ? null : numbers;
}
