/**
 * The SSRF rules of imports (ffmpeg-container/src/jobs/import/download.ts over runtime/outgoing-url.ts):
 * with ENVIRONMENT=production, every special-purpose range is refused whether it comes as an IP literal in the
 * URL, as an address the host resolves to (a resolver injected into the download module plays the DNS), or
 * as one address among several; plain http and credentials are refused. Then, with ENVIRONMENT=local and a
 * real local server: the connection goes to the checked address (one resolution per hop, the name kept in
 * Host), and a redirect whose host resolves to a private address is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSource, type HostResolver, type ResolvedAddress } from "../../../ffmpeg-container/src/jobs/import/download.ts";
import { JobError } from "../../../ffmpeg-container/src/runner/errors.ts";
import { recordAudit } from "../../../tools/audit/record.ts";
import { startRemoteServer, type RemoteServer } from "./remote-server.ts";

/** Every special-purpose address form the issue names, and the range it must be refused as. */
const SPECIAL: [string, string][] = [
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.254", "private"],
  ["192.168.1.1", "private"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.1.1", "link-local"],
  ["169.254.169.254", "cloud metadata"],
  ["100.64.0.1", "shared"],
  ["100.127.255.254", "shared"],
  ["0.0.0.0", "unspecified"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.254", "benchmarking"],
  ["192.0.2.10", "documentation"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["fe80::1", "link-local"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["ff02::1", "multicast"],
  ["fd00:ec2::254", "cloud metadata"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:169.254.169.254", "cloud metadata"],
  ["::10.0.0.1", "private"],
  ["::127.0.0.1", "loopback"],
  ["64:ff9b::a00:1", "private"],
  ["64:ff9b::7f00:1", "loopback"],
  ["64:ff9b::a9fe:a9fe", "cloud metadata"],
  ["2002:a00:1::1", "private"],
  ["2002:7f00:1::1", "loopback"],
  ["2002:c612:1::1", "benchmarking"],
  ["2001:db8::1", "documentation"],
];

const resolverTo =
  (...addresses: string[]): HostResolver =>
  async () =>
    addresses.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));

/** The JobError `openSource` fails with (or throws when it does not fail). */
async function refusal(url: string, environment: string, resolve?: HostResolver): Promise<JobError> {
  try {
    const opened = await openSource(url, { environment, signal: AbortSignal.timeout(5000), resolve, connectTimeoutMs: 1000, idleTimeoutMs: 1000 });
    opened.response.destroy();
  } catch (e) {
    if (e instanceof JobError) return e;
    throw e;
  }
  throw new Error(`${url} was not refused`);
}

describe("ENVIRONMENT=production: every special address is refused", () => {
  for (const [address, range] of SPECIAL) {
    it(`${address} (${range}) as the address a host resolves to`, async () => {
      const resolved: string[] = [];
      const e = await refusal("https://media.example.com/v.mp4", "production", async (host) => {
        resolved.push(host);
        return resolverTo(address)(host);
      });
      const expected = `The URL is refused: its host must not point to ${range} addresses.`;
      recordAudit({ case: `https://media.example.com → resolves to ${address}`, expected, got: e.message, ok: e.message === expected });
      expect(e.message).toBe(expected);
      expect(resolved).toEqual(["media.example.com"]);
    });
    it(`${address} (${range}) as an IP literal in the URL`, async () => {
      const host = address.includes(":") ? `[${address}]` : address;
      const e = await refusal(`https://${host}/v.mp4`, "production", async () => {
        throw new Error("an IP literal must not be resolved");
      });
      const expected = `The URL is refused: it must not point to ${range} addresses.`;
      recordAudit({ case: `https://${host}/v.mp4`, expected, got: e.message, ok: e.message === expected });
      expect(e.message).toBe(expected);
    });
  }

  it("refuses a host when any one of its addresses is special (public first, private second)", async () => {
    const e = await refusal("https://media.example.com/v.mp4", "production", resolverTo("93.184.216.34", "10.0.0.5"));
    expect(e.message).toBe("The URL is refused: its host must not point to private addresses.");
  });

  it("refuses other spellings of loopback, plain http, ports, credentials and private names before any lookup", async () => {
    const never: HostResolver = async () => {
      throw new Error("must not resolve");
    };
    expect((await refusal("https://2130706433/v.mp4", "production", never)).message).toMatch(/loopback/);
    expect((await refusal("https://0x7f.1/v.mp4", "production", never)).message).toMatch(/loopback/);
    expect((await refusal("http://media.example.com/v.mp4", "production", never)).message).toBe("The URL is refused: it must use https.");
    expect((await refusal("https://media.example.com:8443/v.mp4", "production", never)).message).toMatch(/default port/);
    expect((await refusal("https://user:pw@media.example.com/v.mp4", "production", never)).message).toMatch(/user name or password/);
    expect((await refusal("https://localhost/v.mp4", "production", never)).message).toMatch(/localhost/);
    expect((await refusal("https://nas.internal/v.mp4", "production", never)).message).toMatch(/private-network host name/);
  });

  it("a host that does not resolve is a clear error", async () => {
    const e = await refusal("https://nowhere.example.com/v.mp4", "production", async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    });
    expect(e.message).toBe("The URL's host nowhere.example.com could not be resolved.");
  });
});

describe("ENVIRONMENT=local with a real server", () => {
  let remote: RemoteServer;
  beforeAll(async () => {
    remote = await startRemoteServer();
  });
  afterAll(async () => {
    await remote?.close();
  });

  it("connects to the checked address: one resolution per hop, the name kept in Host", async () => {
    const lookups: string[] = [];
    // A rebinding resolver: the first answer is the allowed address, any later one a private address.
    const rebinding: HostResolver = async (host) => {
      lookups.push(host);
      return resolverTo(lookups.length === 1 ? "127.0.0.1" : "10.0.0.1")(host);
    };
    const opened = await openSource(`http://media.example.test:${remote.port}/files/hardware-example.mp4`, {
      environment: "local",
      signal: AbortSignal.timeout(5000),
      resolve: rebinding,
    });
    opened.response.resume();
    expect(opened.response.statusCode).toBe(200);
    expect(lookups).toEqual(["media.example.test"]);
    expect(remote.requests.at(-1)).toEqual({ path: "/files/hardware-example.mp4", host: `media.example.test:${remote.port}` });
  });

  it("refuses a redirect whose host resolves to a private address (checked again on every hop)", async () => {
    const resolve: HostResolver = async (host) => resolverTo(host === "evil.example.test" ? "10.0.0.9" : "127.0.0.1")(host);
    const before = remote.requests.length;
    const e = await refusal(`${remote.url}/redirect/2?to=http://evil.example.test:${remote.port}/files/franck.mp4`, "local", resolve);
    const expected = "The URL is refused: the host of its redirect 2 must not point to private addresses.";
    recordAudit({ case: "redirect 2 → http://evil.example.test (resolves to 10.0.0.9)", expected, got: e.message, ok: e.message === expected });
    expect(e.message).toBe(expected);
    // The two redirects were served; nothing reached the (would-be) private host.
    expect(remote.requests.slice(before).map((r) => r.path)).toEqual([
      `/redirect/2?to=http://evil.example.test:${remote.port}/files/franck.mp4`,
      `/redirect/1?to=http://evil.example.test:${remote.port}/files/franck.mp4`,
    ]);
  });
});
