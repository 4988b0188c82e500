/**
 * The one set of rules for every URL the service fetches on a user's behalf (server-side request forgery
 * guard): webhook endpoints today, imports by URL and external generators later. Pure functions of the URL
 * (or a resolved address) and ENVIRONMENT, using only WHATWG `URL`, so Workers and Node share them.
 *
 * Everywhere: an absolute http(s) URL of at most {@link MAX_OUTGOING_URL_LENGTH} characters, no user name
 * or password, and no IP literal in a special-purpose range ({@link classifyIpAddress}: private, link-local,
 * cloud metadata, shared/CGNAT, unspecified, multicast, benchmarking, documentation, reserved, broadcast,
 * unique-local, …). IPv6 forms that carry an IPv4 address (IPv4-compatible `::a.b.c.d`, IPv4-mapped
 * `::ffff:a.b.c.d`, IPv4-translated, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4
 * address. The fragment is dropped.
 * Outside ENVIRONMENT=local also: https only, the default port only, no loopback literal (127/8, ::1), no
 * `localhost` / `*.localhost`, no private-use names (`*.internal`, `*.local`, `*.home.arpa`), and a host
 * name with at least one dot.
 * Locally (tests, `npm start`): http, any port and loopback are allowed, so a receiver on 127.0.0.1 works.
 *
 * Host names are not resolved here (Workers have no DNS API; a deployed Worker's `fetch` cannot reach
 * private networks). A caller that resolves names itself checks each address with
 * {@link checkResolvedAddress} before connecting to it.
 */

/** Outcome of a URL check: the normalised URL, or why it is refused (a phrase after "it", e.g. "must use https"). */
export type OutgoingUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Outcome of a resolved-address check. */
export type AddressCheck = { ok: true } | { ok: false; reason: string };

/** Special-purpose address ranges (RFC 6890 and the IANA registries); a public address has none. */
export type AddressRange =
  | "private"
  | "loopback"
  | "link-local"
  | "cloud metadata"
  | "shared"
  | "unspecified"
  | "multicast"
  | "benchmarking"
  | "documentation"
  | "broadcast"
  | "reserved";

/** Longest accepted URL, characters. */
export const MAX_OUTGOING_URL_LENGTH = 2048;

/** Suffixes of names that only resolve inside a private network (RFC 6761, 6762, 8375, ICANN's `.internal`). */
const PRIVATE_NAME_SUFFIXES = [".internal", ".local", ".home.arpa", ".localdomain"];

/**
 * Checks a URL the service is about to store or fetch.
 * @param raw the URL as given by the user
 * @param environment ENVIRONMENT (`local`, `staging`, `production`)
 * @returns the normalised URL (WHATWG serialisation, no fragment), or the reason it is refused
 */
export function checkOutgoingUrl(raw: string, environment: string): OutgoingUrlCheck {
  const local = environment === "local";
  if (raw.length > MAX_OUTGOING_URL_LENGTH) return refuse(`must be at most ${MAX_OUTGOING_URL_LENGTH} characters`);
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

  // WHATWG URL has already turned every IPv4 spelling (2130706433, 0x7f.1, 017.0.0.1) into a dotted quad.
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return refuse("must have a host");
  if (IPV4.test(host) || host.startsWith("[")) {
    const address = host.startsWith("[") ? host.slice(1, -1) : host;
    const checked = checkResolvedAddress(address, environment);
    return checked.ok ? accept(url) : checked;
  }
  if (host === "localhost" || host.endsWith(".localhost")) {
    return local ? accept(url) : refuse("must not point to localhost");
  }
  if (!local && PRIVATE_NAME_SUFFIXES.some((s) => host.endsWith(s))) return refuse("must not use a private-network host name");
  if (!local && !host.includes(".")) return refuse("must use a fully qualified host name");
  return accept(url);
}

/**
 * Checks one IP address a host name resolved to, with the rules of {@link checkOutgoingUrl} for IP literals
 * (loopback allowed only when ENVIRONMENT=local). Call it on every address before connecting, and connect
 * to the checked address, not to the name again.
 * @param address IPv4 dotted quad or IPv6 text (brackets and a `%zone` suffix are accepted)
 * @param environment ENVIRONMENT
 */
export function checkResolvedAddress(address: string, environment: string): AddressCheck {
  const range = classifyIpAddress(address);
  if (range === undefined) return refuse("must have a valid host");
  if (range === null || (range === "loopback" && environment === "local")) return { ok: true };
  return refuse(`must not point to ${range} addresses`);
}

/**
 * The special-purpose range of an IP address.
 * @param address IPv4 dotted quad or IPv6 text (optionally in brackets, optionally with `%zone`)
 * @returns the range, null for a public address, undefined when the text is not an IP address
 */
export function classifyIpAddress(address: string): AddressRange | null | undefined {
  const text = address.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIpv4(text);
  if (v4) return ipv4Range(v4);
  const v6 = parseIpv6(text);
  return v6 ? ipv6Range(v6) : undefined;
}

function accept(url: URL): OutgoingUrlCheck {
  url.hash = "";
  return { ok: true, url: url.href };
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
type Ipv4 = [number, number, number, number];

/** `10.0.0.1` → 4 bytes; null unless a strict dotted quad. */
function parseIpv4(text: string): Ipv4 | null {
  const m = IPV4.exec(text);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? (bytes as Ipv4) : null;
}

/** Cloud metadata services: AWS/GCP/Azure/OpenStack, AWS ECS task metadata, Alibaba, Oracle. */
const IPV4_METADATA = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192"]);

/** Special-purpose range of an IPv4 address, or null for a public one. */
function ipv4Range(ip: Ipv4): AddressRange | null {
  const [a, b, c] = ip;
  if (IPV4_METADATA.has(ip.join("."))) return "cloud metadata";
  if (a === 0) return "unspecified"; // 0/8 "this network"
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 169 && b === 254) return "link-local";
  if (a === 100 && b >= 64 && b <= 127) return "shared"; // carrier-grade NAT, 100.64/10
  if (a === 198 && (b === 18 || b === 19)) return "benchmarking"; // 198.18/15
  if ((a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) {
    return "documentation";
  }
  if (a === 192 && b === 0 && c === 0) return "reserved"; // IETF protocol assignments, 192.0.0/24
  if (a === 192 && b === 88 && c === 99) return "reserved"; // 6to4 relay anycast, deprecated
  if (a >= 224 && a <= 239) return "multicast";
  if (ip.every((x) => x === 255)) return "broadcast";
  if (a >= 240) return "reserved";
  return null;
}

/**
 * `fe80::1` → 8 16-bit groups; null when not a valid IPv6 text. A trailing dotted quad (`::ffff:1.2.3.4`,
 * as resolvers print it) becomes the last two groups.
 */
function parseIpv6(text: string): number[] | null {
  let s = text.toLowerCase();
  const tail = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (tail) {
    const v4 = parseIpv4(tail[2]!);
    if (!v4) return null;
    s = `${tail[1]}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const parts = s.split("::");
  if (parts.length > 2) return null;
  const words = (p: string | undefined) => (p ? p.split(":") : []);
  const head = words(parts[0]);
  const rest = words(parts[1]);
  const missing = 8 - head.length - rest.length;
  if (parts.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(parts.length === 2 ? missing : 0).fill("0"), ...rest];
  const groups = all.map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN));
  return groups.some(Number.isNaN) ? null : groups;
}

/** The IPv4 address in the last 32 bits of 8 groups. */
const lastIpv4 = (g: number[]): Ipv4 => [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];

/** Special-purpose range of an IPv6 address given as 8 groups, or null for a public one. */
function ipv6Range(g: number[]): AddressRange | null {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const zero = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zero(8)) return "unspecified";
  if (zero(7) && g7 === 1) return "loopback";
  // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks), IPv4-mapped ::ffff:a.b.c.d and
  // IPv4-translated ::ffff:0:a.b.c.d reach the IPv4 address they carry.
  if (zero(6) || (zero(5) && g5 === 0xffff) || (zero(4) && g4 === 0xffff && g5 === 0)) return ipv4Range(lastIpv4(g));
  // NAT64 well-known prefix 64:ff9b::/96: a NAT64 gateway forwards to the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4Range(lastIpv4(g));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return "reserved"; // local-use NAT64, 64:ff9b:1::/48
  // 6to4 2002:AABB:CCDD::/48 tunnels to the IPv4 address AA.BB.CC.DD.
  if (g0 === 0x2002) return ipv4Range([g1 >> 8, g1 & 0xff, g2 >> 8, g2 & 0xff]);
  if (g0 === 0x2001 && g1 === 0) return "reserved"; // Teredo 2001::/32: tunnels to an address it obfuscates
  if (g0 === 0x2001 && g1 === 0xdb8) return "documentation"; // 2001:db8::/32
  if (g0 === 0x2001 && g1 === 2 && g2 === 0) return "benchmarking"; // 2001:2::/48
  if (g0 === 0x2001 && g1 >= 0x10 && g1 <= 0x2f) return "reserved"; // ORCHID, 2001:10::/28 and 2001:20::/28
  if (g0 === 0xfd00 && g1 === 0xec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254) {
    return "cloud metadata"; // AWS IPv6 instance metadata, fd00:ec2::254
  }
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique-local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return "link-local"; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // site-local fec0::/10 (deprecated)
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  // Everything outside global unicast 2000::/3 (discard-only 100::/64, the rest of ::/8, …) is not a public host.
  if ((g0 & 0xe000) !== 0x2000) return "reserved";
  return null;
}
