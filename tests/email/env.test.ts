/** The config schema (`email-consumer/src/env.ts`): fails closed outside ENVIRONMENT=local. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../runtime/config.ts";
import { parseEnv } from "../../email-consumer/src/env.ts";
import { bindings } from "./helpers.ts";

const base = {
  DB: bindings.DB,
  ENVIRONMENT: "local",
  EMAIL_FROM: "vidsnap <no-reply@vidsnap.local>",
  POSTMARK_API_HOST: "",
};

function issuesOf(raw: Record<string, unknown>): string[] {
  try {
    parseEnv(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => problem.slice(0, problem.indexOf(":")));
  }
  throw new Error("parseEnv accepted the env");
}

describe("parseEnv", () => {
  it("local without a token: record mode", () => {
    const env = parseEnv({ ...base });
    expect(env.postmark).toBeNull();
    expect(env.environment).toBe("local");
    expect(env.emailFrom).toBe("vidsnap <no-reply@vidsnap.local>");
  });

  it("the wrangler.toml env as loaded by the pool parses (record mode)", () => {
    expect(parseEnv(bindings).postmark).toBeNull();
  });

  it.each(["production", "staging"])("ENVIRONMENT=%s without a token is rejected", (environment) => {
    expect(issuesOf({ ...base, ENVIRONMENT: environment })).toEqual(["POSTMARK_SERVER_TOKEN"]);
    expect(issuesOf({ ...base, ENVIRONMENT: environment, POSTMARK_SERVER_TOKEN: "  " })).toEqual([
      "POSTMARK_SERVER_TOKEN",
    ]);
    expect(() => parseEnv({ ...base, ENVIRONMENT: environment })).toThrow(/POSTMARK_SERVER_TOKEN: required/);
  });

  it("with a token and no host: HTTPS to api.postmarkapp.com, 10 s timeout", () => {
    const env = parseEnv({ ...base, ENVIRONMENT: "production", POSTMARK_SERVER_TOKEN: "secret" });
    expect(env.postmark).toEqual({
      serverToken: "secret",
      requestHost: "api.postmarkapp.com",
      useHttps: true,
      timeoutSeconds: 10,
    });
  });

  it.each([
    ["127.0.0.1:3901", false],
    ["localhost:3901", false],
    ["[::1]:3901", false],
    ["postmark.internal.example:8443", true],
    ["api.postmarkapp.com", true],
  ])("POSTMARK_API_HOST=%s → useHttps %s", (host, useHttps) => {
    const env = parseEnv({ ...base, POSTMARK_SERVER_TOKEN: "t", POSTMARK_API_HOST: host });
    expect(env.postmark).toMatchObject({ requestHost: host, useHttps });
  });

  it("POSTMARK_TIMEOUT_SECONDS is parsed and bounded", () => {
    expect(parseEnv({ ...base, POSTMARK_SERVER_TOKEN: "t", POSTMARK_TIMEOUT_SECONDS: "2.5" }).postmark?.timeoutSeconds).toBe(2.5);
    expect(issuesOf({ ...base, POSTMARK_TIMEOUT_SECONDS: "abc" })).toEqual(["POSTMARK_TIMEOUT_SECONDS"]);
    expect(issuesOf({ ...base, POSTMARK_TIMEOUT_SECONDS: "0" })).toEqual(["POSTMARK_TIMEOUT_SECONDS"]);
  });

  it.each([
    ["POSTMARK_API_HOST", "http://127.0.0.1:3901"],
    ["POSTMARK_API_HOST", "127.0.0.1:3901/email"],
    ["EMAIL_FROM", ""],
    ["EMAIL_FROM", "not an address"],
    ["EMAIL_FROM", "vidsnap <nope>"],
    ["ENVIRONMENT", ""],
    ["DB", undefined],
    ["DB", "not a binding"],
  ])("rejects %s=%j", (name, value) => {
    expect(issuesOf({ ...base, [name]: value })).toContain(name);
  });

  it("accepts a bare sender address", () => {
    expect(parseEnv({ ...base, EMAIL_FROM: "no-reply@vidsnap.example" }).emailFrom).toBe("no-reply@vidsnap.example");
  });

  it("error messages never contain the token", () => {
    try {
      parseEnv({ ...base, POSTMARK_SERVER_TOKEN: "super-secret-token", POSTMARK_API_HOST: "https://x/y", EMAIL_FROM: "bad" });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain("super-secret-token");
      expect(JSON.stringify(error)).not.toContain("super-secret-token");
    }
  });
});
