/**
 * The outgoing-URL rules (runtime/outgoing-url.ts): a matrix over every special-purpose address form, IPv4
 * embedded in IPv6 included, for URLs and for resolved addresses; and `POST /v1/webhooks` refusing the
 * forms issue 18 found accepted in production. Each case is a row of `npm run audit:security` (suite `ssrf`).
 */
import { createExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../edge-api/src/index.ts";
import type { Env } from "../../edge-api/src/env.ts";
import { checkOutgoingUrl, checkResolvedAddress, classifyIpAddress } from "../../runtime/outgoing-url.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { BASE, remoteSecrets, testEnv } from "./support/env.ts";

/** IP literals a URL must not point to, with the range named in the refusal. */
const REFUSED_LITERALS: [host: string, range: string][] = [
  // IPv4
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.5", "private"],
  ["172.16.3.4", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["169.254.0.1", "link-local"],
  ["169.254.169.254", "cloud metadata"],
  ["169.254.170.2", "cloud metadata"],
  ["100.100.100.200", "cloud metadata"],
  ["100.64.0.1", "shared"],
  ["100.127.255.254", "shared"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.1", "benchmarking"],
  ["192.0.0.8", "reserved"],
  ["192.0.2.1", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  // IPv4 spellings WHATWG URL normalises to a dotted quad
  ["2130706433", "loopback"],
  ["0x7f.1", "loopback"],
  ["0251.0376.0251.0376", "cloud metadata"],
  // IPv6
  ["[::]", "unspecified"],
  ["[::1]", "loopback"],
  ["[fc00::1]", "private"],
  ["[fd00::1]", "private"],
  ["[fd00:ec2::254]", "cloud metadata"],
  ["[fe80::1]", "link-local"],
  ["[febf::1]", "link-local"],
  ["[fec0::1]", "private"],
  ["[ff02::1]", "multicast"],
  ["[2001:db8::1]", "documentation"],
  ["[2001:2::1]", "benchmarking"],
  ["[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "reserved"], // Teredo
  ["[100::1]", "reserved"], // discard-only
  ["[64:ff9b:1::1]", "reserved"], // local-use NAT64
  // IPv4 embedded in IPv6: judged by the IPv4 address
  ["[::a9fe:a9fe]", "cloud metadata"], // IPv4-compatible 169.254.169.254
  ["[::127.0.0.1]", "loopback"], // IPv4-compatible
  ["[::10.0.0.1]", "private"],
  ["[::ffff:127.0.0.1]", "loopback"], // IPv4-mapped
  ["[::ffff:a9fe:a9fe]", "cloud metadata"],
  ["[::ffff:192.168.0.1]", "private"],
  ["[::ffff:0:10.0.0.1]", "private"], // IPv4-translated
  ["[64:ff9b::a9fe:a9fe]", "cloud metadata"], // NAT64
  ["[64:ff9b::127.0.0.1]", "loopback"],
  ["[64:ff9b::c612:1]", "benchmarking"], // NAT64 198.18.0.1
  ["[2002:a9fe:a9fe::]", "cloud metadata"], // 6to4
  ["[2002:7f00:1::1]", "loopback"],
  ["[2002:c0a8:101::]", "private"],
  ["[2002:6440::1]", "shared"],
];

/** Public literals, embedded public IPv4 included: accepted. */
const PUBLIC_LITERALS = ["8.8.8.8", "1.1.1.1", "198.20.0.1", "100.128.0.1", "[2606:4700::1111]", "[2a00:1450:4001::1]", "[::ffff:8.8.8.8]", "[64:ff9b::808:808]", "[2002:808:808::1]"];

/** Host names refused outside local. */
const REFUSED_NAMES: [host: string, reason: string][] = [
  ["localhost", "must not point to localhost"],
  ["api.localhost", "must not point to localhost"],
  ["localhost.", "must not point to localhost"],
  ["metadata.google.internal", "must not use a private-network host name"],
  ["printer.local", "must not use a private-network host name"],
  ["nas.home.arpa", "must not use a private-network host name"],
  ["intranet", "must use a fully qualified host name"],
];

describe("outgoing URL rules: IP literals (production)", () => {
  it.each(REFUSED_LITERALS)("https://%s/ is refused as %s", (host, range) => {
    const got = checkOutgoingUrl(`https://${host}/hook`, "production");
    const expected = `refused: must not point to ${range} addresses`;
    const outcome = got.ok ? `accepted ${got.url}` : `refused: ${got.reason}`;
    recordAudit({ case: `outgoing URL https://${host}/`, expected, got: outcome, ok: outcome === expected });
    expect(outcome).toBe(expected);
    expect(checkOutgoingUrl(`https://${host}/hook`, "staging")).toMatchObject({ ok: false });
  });

  it.each(PUBLIC_LITERALS)("https://%s/ is accepted", (host) => {
    const got = checkOutgoingUrl(`https://${host}/hook`, "production");
    recordAudit({ case: `outgoing URL https://${host}/ (public)`, expected: "accepted", got: got.ok ? "accepted" : `refused: ${got.reason}`, ok: got.ok });
    expect(got).toMatchObject({ ok: true });
  });

  it.each(REFUSED_NAMES)("https://%s/ is refused outside local", (host, reason) => {
    const got = checkOutgoingUrl(`https://${host}/hook`, "production");
    recordAudit({ case: `outgoing URL https://${host}/`, expected: `refused: ${reason}`, got: got.ok ? "accepted" : `refused: ${got.reason}`, ok: !got.ok && got.reason === reason });
    expect(got).toEqual({ ok: false, reason });
  });

  it("scheme, credentials, port, length and syntax", () => {
    const cases: [string, string][] = [
      ["http://example.com/hook", "must use https"],
      ["ftp://example.com/hook", "must use https"],
      ["https://user:pw@example.com/hook", "must not contain a user name or password"],
      ["https://example.com:8443/hook", "must use the default port (443)"],
      ["not a url", "must be an absolute URL"],
      [`https://example.com/${"a".repeat(2048)}`, "must be at most 2048 characters"],
    ];
    for (const [url, reason] of cases) {
      const got = checkOutgoingUrl(url, "production");
      recordAudit({ case: `outgoing URL ${url.slice(0, 60)}`, expected: `refused: ${reason}`, got: got.ok ? "accepted" : `refused: ${got.reason}`, ok: !got.ok && got.reason === reason });
      expect(got, url).toEqual({ ok: false, reason });
    }
    expect(checkOutgoingUrl("https://hooks.example.com/x?y=1#frag", "production")).toEqual({ ok: true, url: "https://hooks.example.com/x?y=1" });
  });
});

describe("outgoing URL rules: locally", () => {
  it("http, ports and loopback (also embedded) are allowed; every other special range is still refused", () => {
    for (const url of ["http://127.0.0.1:9999/h", "http://localhost:9999/h", "http://[::1]:9999/h", "http://[::ffff:127.0.0.1]:1/h", "http://intranet/h", "http://host.docker.internal/h"]) {
      expect(checkOutgoingUrl(url, "local"), url).toMatchObject({ ok: true });
    }
    for (const [host, range] of REFUSED_LITERALS.filter(([, r]) => r !== "loopback")) {
      expect(checkOutgoingUrl(`http://${host}:8080/`, "local"), host).toEqual({ ok: false, reason: `must not point to ${range} addresses` });
    }
    expect(checkOutgoingUrl("http://u:p@127.0.0.1:9999/", "local")).toMatchObject({ ok: false });
    expect(checkOutgoingUrl("ftp://127.0.0.1/", "local")).toEqual({ ok: false, reason: "must use http or https" });
  });
});

describe("resolved addresses (for callers that resolve DNS)", () => {
  it("the same ranges as literals, in the forms resolvers print", () => {
    const cases: [string, string | null][] = [
      ["169.254.169.254", "cloud metadata"],
      ["198.18.0.1", "benchmarking"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::a9fe:a9fe", "cloud metadata"],
      ["64:ff9b::10.1.2.3", "private"],
      ["2002:a9fe:a9fe::1", "cloud metadata"],
      ["fe80::1%eth0", "link-local"],
      ["[fd12:3456::1]", "private"],
      ["93.184.216.34", null],
      ["2606:2800:220:1:248:1893:25c8:1946", null],
    ];
    for (const [address, range] of cases) {
      const got = checkResolvedAddress(address, "production");
      const expected = range === null ? "accepted" : `refused: must not point to ${range} addresses`;
      const outcome = got.ok ? "accepted" : `refused: ${got.reason}`;
      recordAudit({ case: `resolved address ${address}`, expected, got: outcome, ok: outcome === expected });
      expect(outcome, address).toBe(expected);
    }
    expect(checkResolvedAddress("127.0.0.1", "local")).toEqual({ ok: true });
    expect(checkResolvedAddress("10.0.0.1", "local")).toMatchObject({ ok: false });
    for (const bad of ["", "example.com", "256.1.1.1", "1.2.3", "::g", "1::2::3", "1:2:3:4:5:6:7:8:9"]) {
      expect(classifyIpAddress(bad), bad).toBeUndefined();
      expect(checkResolvedAddress(bad, "production"), bad).toEqual({ ok: false, reason: "must have a valid host" });
    }
  });
});

describe("POST /v1/webhooks in production config refuses the forms issue 18 found accepted", () => {
  const prodEnv = {
    ...testEnv,
    ...remoteSecrets,
    ENVIRONMENT: "production",
  } as Env;
  const call = (path: string, init: RequestInit) =>
    worker.fetch(new Request(BASE + path, init) as Parameters<typeof worker.fetch>[0], prodEnv, createExecutionContext());
  let token: string;

  beforeAll(async () => {
    const email = `ssrf-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const up = await call("/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct-horse-battery", name: "ssrf" }),
    });
    expect(up.status, await up.clone().text()).toBe(200);
    await up.body?.cancel();
    // Sign-up opens no session (the same answer whether or not the address exists): sign in.
    const res = await call("/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct-horse-battery" }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    token = res.headers.get("set-auth-token")!;
    expect(token).toBeTruthy();
  });

  it.each([
    ["https://[::a9fe:a9fe]/hook", "cloud metadata"],
    ["https://[::127.0.0.1]/hook", "loopback"],
    ["https://[64:ff9b::a9fe:a9fe]/hook", "cloud metadata"],
    ["https://[2002:a9fe:a9fe::]/hook", "cloud metadata"],
    ["https://198.18.0.1/hook", "benchmarking"],
  ])("%s → 400 problem+json", async (url, range) => {
    const res = await call("/v1/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ url }),
    });
    const body = (await res.json()) as { type?: string; errors?: { path: string; message: string }[] };
    recordAudit({ case: `POST /v1/webhooks url=${url} (production)`, expected: "400 validation", got: `${res.status} ${body.type?.split("/").pop()}`, ok: res.status === 400 && body.type?.endsWith("/validation") === true });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(body.type).toBe("https://vidsnap.dev/problems/validation");
    expect(body.errors).toEqual([{ path: "url", message: `must not point to ${range} addresses` }]);
  });

  it("a public https URL is accepted in the same config (the refusals above are the rules, not the setup)", async () => {
    const res = await call("/v1/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: "https://hooks.example.com/vidsnap" }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  });
});
