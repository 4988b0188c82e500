/**
 * Opens the body of a URL to import, under the SSRF rules of runtime/outgoing-url.ts (the one rule module):
 *
 * - the URL passes `checkOutgoingUrl` (https only outside ENVIRONMENT=local, no credentials, no special IP literal…);
 * - its host is resolved (all addresses, `dns.lookup` with `all: true`), EVERY address passes
 *   `checkResolvedAddress`, and the connection goes to the first checked address: the socket's `lookup` answers
 *   that address, so no second DNS lookup happens between check and connect (DNS rebinding);
 * - a redirect (301, 302, 303, 307, 308) is followed at most {@link MAX_REDIRECTS} times, each target checked
 *   and resolved again the same way;
 * - connecting may take {@link IMPORT_CONNECT_TIMEOUT_MS}; after that, the server may stay silent (headers or
 *   body) at most {@link IMPORT_IDLE_TIMEOUT_MS};
 * - only a 200 answer is a body to import; every other status is refused with its code.
 *
 * Every refusal is a {@link JobError} with one sentence for the user; the description names the hop, the host
 * and the reason (never the resolved private address itself).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import net, { type LookupFunction } from "node:net";
import { checkOutgoingUrl, checkResolvedAddress } from "../../../../runtime/outgoing-url.ts";
import { JobError } from "../../runner/errors.ts";

/** Most redirects followed (each one checked like the first URL). */
export const MAX_REDIRECTS = 5;
/** Longest wait for the TCP (and TLS) connection of one hop, ms. */
export const IMPORT_CONNECT_TIMEOUT_MS = 10_000;
/** Longest silence of the server once connected (waiting for headers or between body bytes), ms. */
export const IMPORT_IDLE_TIMEOUT_MS = 30_000;

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (tests inject one that answers special-purpose ranges). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver: every address, in the resolver's order. */
export const systemResolver: HostResolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface OpenOptions {
  /** ENVIRONMENT (`local` allows http and loopback). */
  environment: string;
  /** Aborts the request (job cancelled, timed out, shutting down). */
  signal: AbortSignal;
  /** Default {@link systemResolver}. */
  resolve?: HostResolver | undefined;
  /** Default {@link IMPORT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number | undefined;
  /** Default {@link IMPORT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number | undefined;
}

/** An answered 200 whose body is still unread. */
export interface OpenedSource {
  response: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
  redirects: number;
}

/** Statuses that redirect to `Location`. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** "the URL" for the first hop, "redirect 2 (to https://…)" after. */
function hopName(hop: number): string {
  return hop === 0 ? "The URL" : `Redirect ${hop}`;
}

/**
 * Follows `rawUrl` to a 200 answer.
 * @param rawUrl the URL stored on the video (already checked once by the API)
 * @returns the open response (read it or destroy it)
 * @throws JobError for a refused URL or address, too many redirects, a status other than 200, a host that does
 *   not resolve, a connection refused or timed out; `signal.reason` when aborted
 */
export async function openSource(rawUrl: string, opts: OpenOptions): Promise<OpenedSource> {
  let url = rawUrl;
  for (let hop = 0; ; hop++) {
    const checked = checkOutgoingUrl(url, opts.environment);
    if (!checked.ok) {
      throw new JobError(`The URL is refused: ${hop === 0 ? "it" : `its redirect ${hop}`} ${checked.reason}.`, `${hopName(hop)} (${safeUrl(url)}) ${checked.reason}.`);
    }
    const target = new URL(checked.url);
    const address = await resolveChecked(target, hop, opts);
    const response = await request(target, address, opts);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      const location = response.headers.location;
      response.destroy();
      let next: string | undefined;
      try {
        next = location ? new URL(location, target).href : undefined;
      } catch {
        next = undefined;
      }
      if (!next) throw new JobError(`The URL answered a redirect (HTTP ${status}) without a valid location.`, `${hopName(hop)}: HTTP ${status} with a missing or unparsable Location header.`);
      if (hop >= MAX_REDIRECTS) {
        throw new JobError(`The URL redirected more than ${MAX_REDIRECTS} times.`, `Stopped at redirect ${hop + 1} (to ${safeUrl(next)}); at most ${MAX_REDIRECTS} are followed.`);
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      response.destroy();
      const text = http.STATUS_CODES[status] ? ` ${http.STATUS_CODES[status]}` : "";
      throw new JobError(`The URL answered HTTP ${status}${text}, not a video.`, `${hopName(hop)} (${safeUrl(target.href)}) answered HTTP ${status}; only 200 is imported.`);
    }
    return { response, url: target.href, redirects: hop };
  }
}

/** The URL without its query (which may hold a credential of the remote server) for messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * Every address of the target's host, each checked; the first one is where the connection goes.
 * @throws JobError when the host does not resolve or any address is refused
 */
async function resolveChecked(target: URL, hop: number, opts: OpenOptions): Promise<ResolvedAddress> {
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: ResolvedAddress[];
  if (net.isIP(host)) {
    addresses = [{ address: host, family: net.isIPv6(host) ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolve ?? systemResolver)(host);
    } catch (e) {
      opts.signal.throwIfAborted();
      const code = (e as { code?: string }).code ?? (e as Error).message;
      throw new JobError(`The URL's host ${host} could not be resolved.`, `${hopName(hop)}: DNS lookup of ${host} failed (${code}).`);
    }
  }
  if (addresses.length === 0) throw new JobError(`The URL's host ${host} could not be resolved.`, `${hopName(hop)}: DNS lookup of ${host} answered no address.`);
  for (const a of addresses) {
    const verdict = checkResolvedAddress(a.address, opts.environment);
    if (!verdict.ok) {
      throw new JobError(
        `The URL is refused: ${hop === 0 ? "its host" : `the host of its redirect ${hop}`} ${verdict.reason}.`,
        `${hopName(hop)}: ${host} resolves to an address that ${verdict.reason} (${addresses.length} address(es) checked).`,
      );
    }
  }
  return addresses[0]!;
}

/**
 * One GET to the checked address, the socket pinned to it.
 * @returns the response once its headers arrived
 */
function request(target: URL, address: ResolvedAddress, opts: OpenOptions): Promise<IncomingMessage> {
  const connectMs = opts.connectTimeoutMs ?? IMPORT_CONNECT_TIMEOUT_MS;
  const idleMs = opts.idleTimeoutMs ?? IMPORT_IDLE_TIMEOUT_MS;
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  // The socket's only "DNS lookup": the address checked above (Node asks with `all: true` when it may try
  // several families; answer the same single address either way).
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request({
      protocol: target.protocol,
      hostname: host,
      port: target.port || undefined,
      path: `${target.pathname}${target.search}`,
      method: "GET",
      headers: {
        "user-agent": "vidsnap-import/1 (+https://vidsnap.dev)",
        accept: "video/*, application/octet-stream;q=0.9, */*;q=0.1",
        // The size cap counts stored bytes: no transparent decompression.
        "accept-encoding": "identity",
      },
      lookup: pinned,
      // A fresh connection per hop: a pooled socket could belong to another (unchecked) address.
      agent: false,
      // TLS SNI and certificate check against the name, not the pinned address.
      ...(target.protocol === "https:" && !net.isIP(host) ? { servername: host } : {}),
      signal: opts.signal,
    });
    const connectTimer = setTimeout(
      () => req.destroy(new JobError(`The URL's server did not accept a connection within ${connectMs / 1000} s.`, `connect to ${host} timed out after ${connectMs} ms.`)),
      connectMs,
    );
    req.once("socket", (socket) => {
      const connected = () => {
        clearTimeout(connectTimer);
        // Idle from now on: waiting for the headers; the body's silence is timed by the reader (./job.ts).
        req.setTimeout(idleMs, () =>
          req.destroy(new JobError(`The URL's server stopped answering for ${idleMs / 1000} s.`, `no response headers from ${host} within ${idleMs} ms.`)),
        );
      };
      if (!socket.connecting) connected();
      else socket.once(target.protocol === "https:" ? "secureConnect" : "connect", connected);
    });
    req.once("response", (res) => {
      clearTimeout(connectTimer);
      req.setTimeout(0);
      resolve(res);
    });
    req.once("error", (e) => {
      clearTimeout(connectTimer);
      if (opts.signal.aborted) return reject(opts.signal.reason);
      if (e instanceof JobError) return reject(e);
      const code = (e as { code?: string }).code ?? "";
      reject(new JobError(`The URL's server could not be reached${code ? ` (${code})` : ""}.`, `GET ${safeUrl(target.href)}: ${e.message}`.slice(0, 1000)));
    });
    req.end();
  });
}
