/**
 * `npm run deploy` logic (tools/deploy/deploy.ts) against the real wrangler configs of staging and
 * production, with Cloudflare played by an in-memory stand-in of the wrangler commands the script uses
 * (Cloudflare's API cannot be reached here). Checks: a first deploy creates every missing resource, puts
 * missing secrets on stdin, applies migrations before deploying, deploys email-consumer before edge-api;
 * a second run creates nothing; preflight failures change nothing.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RemoteEnv, WorkerConfig } from "../../tools/deploy/config-checks.ts";
import { deploy, DeployError, DLQ_RETENTION_SECONDS, queueNames, type WranglerRunner } from "../../tools/deploy/deploy.ts";
import { REPO_ROOT } from "../../tools/paths.ts";
import { offlineWranglerEnv } from "../../tools/wrangler.ts";

/** Cloudflare account state as the stand-in wrangler sees it. */
interface Account {
  d1: Map<string, string>;
  buckets: Set<string>;
  queues: Map<string, number | undefined>;
  secrets: Map<string, Set<string>>; // worker name → secret names
  secretValues: Map<string, string>;
  lifecycle: Map<string, Set<string>>;
  cors: Map<string, string>;
  calls: string[][];
  loggedIn: boolean;
}

const newAccount = (): Account => ({
  d1: new Map(),
  buckets: new Set(),
  queues: new Map(),
  secrets: new Map(),
  secretValues: new Map(),
  lifecycle: new Map(),
  cors: new Map(),
  calls: [],
  loggedIn: true,
});

/** The subset of wrangler's CLI the deploy script uses, with exit codes like the real one. */
function standIn(account: Account, configs: Record<string, WorkerConfig>): WranglerRunner {
  return async (args, opts = {}) => {
    account.calls.push(args);
    const ok = (stdout = "") => ({ code: 0, stdout, stderr: "" });
    const fail = (stderr: string) => ({ code: 1, stdout: "", stderr });
    const worker = () => configs[args[args.indexOf("-c") + 1]!]!.name!;
    const [a, b, c, d] = args;
    if (a === "whoami") return account.loggedIn ? ok("You are logged in") : fail("You are not authenticated.");
    if (a === "d1" && b === "list") return ok(JSON.stringify([...account.d1].map(([name, uuid]) => ({ name, uuid }))));
    if (a === "d1" && b === "create") return account.d1.set(c!, `uuid-${c}`), ok();
    if (a === "d1" && b === "migrations") return ok("migrations applied");
    if (a === "r2" && b === "bucket" && c === "info") return account.buckets.has(d!) ? ok("{}") : fail("bucket not found");
    if (a === "r2" && b === "bucket" && c === "create") return account.buckets.add(d!), ok();
    if (a === "r2" && b === "bucket" && c === "cors") return account.cors.set(args[4]!, readFileSync(args[args.indexOf("--file") + 1]!, "utf8")), ok();
    if (a === "r2" && b === "bucket" && c === "lifecycle" && d === "list") return ok([...(account.lifecycle.get(args[4]!) ?? [])].join("\n"));
    if (a === "r2" && b === "bucket" && c === "lifecycle" && d === "add") {
      const rules = account.lifecycle.get(args[4]!) ?? new Set();
      if (rules.has(args[5]!)) return fail("rule exists");
      return account.lifecycle.set(args[4]!, rules.add(args[5]!)), ok();
    }
    if (a === "queues" && b === "info") return account.queues.has(c!) ? ok(`Queue ${c}`) : fail("queue not found");
    if (a === "queues" && b === "create") {
      const retention = args.indexOf("--message-retention-period-secs");
      return account.queues.set(c!, retention > 0 ? Number(args[retention + 1]) : undefined), ok();
    }
    if (a === "secret" && b === "list") return ok(JSON.stringify([...(account.secrets.get(worker()) ?? [])].map((name) => ({ name, type: "secret_text" }))));
    if (a === "secret" && b === "put") {
      if (!opts.input) return fail("no value on stdin");
      const set = account.secrets.get(worker()) ?? new Set();
      account.secrets.set(worker(), set.add(c!));
      account.secretValues.set(`${worker()}:${c}`, opts.input);
      return ok();
    }
    if (a === "deploy") return ok(`Deployed ${worker()}`);
    return fail(`stand-in does not know: wrangler ${args.join(" ")}`);
  };
}

let tmp: string;
const read = async (config: string, env: RemoteEnv) => {
  Object.assign(process.env, offlineWranglerEnv(), { WRANGLER_LOG: "error" });
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config, env }) as unknown as WorkerConfig;
};

/** The env's configs with the placeholder URLs an operator replaces in docs/deploy.md step 2 filled in. */
async function filledConfigs(env: RemoteEnv) {
  const edgeConfigPath = path.join(tmp, `${env}-wrangler.toml`);
  const emailConfigPath = path.join(tmp, `${env}-email-wrangler.toml`);
  copyFileSync(path.join(REPO_ROOT, "wrangler.toml"), edgeConfigPath);
  copyFileSync(path.join(REPO_ROOT, "email-consumer/wrangler.toml"), emailConfigPath);
  const edge = await read(path.join(REPO_ROOT, "wrangler.toml"), env);
  const email = await read(path.join(REPO_ROOT, "email-consumer/wrangler.toml"), env);
  const host = env === "production" ? "vidsnap.dev" : "staging.vidsnap.dev";
  Object.assign(edge.vars, {
    PUBLIC_BASE_URL: `https://api.${host}`,
    TRUSTED_ORIGINS: `https://${host}`,
    S3_ENDPOINT: "https://0123456789abcdef.r2.cloudflarestorage.com",
    R2_ACCOUNT_ID: "0123456789abcdef",
  });
  Object.assign(email.vars, { EMAIL_FROM: `vidsnap <no-reply@${host}>` });
  for (const [k, v] of Object.entries(email.vars)) if (typeof v === "string" && /\.example\b/.test(v)) email.vars[k] = v.replace(".example", ".dev");
  return { edge, email, edgeConfigPath, emailConfigPath };
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-deploy-test-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(["staging", "production"] as const)("npm run deploy --env %s", (env) => {
  it("first run creates everything, second run creates nothing", async () => {
    const cfg = await filledConfigs(env);
    const account = newAccount();
    const configs = { [cfg.edgeConfigPath]: cfg.edge, [cfg.emailConfigPath]: cfg.email };
    const lines: string[] = [];
    const secretSource = { S3_ACCESS_KEY_ID: "AKIDEXAMPLE", S3_SECRET_ACCESS_KEY: "s3-secret-value", R2_PARENT_API_TOKEN: "r2-token-value", POSTMARK_SERVER_TOKEN: "pm-token-value" };
    const options = {
      env,
      ...cfg,
      wrangler: standIn(account, configs),
      secretSource,
      log: (l: string) => lines.push(l),
      checkHealth: async () => true,
    };
    const first = await deploy(options);

    // Resources: the D1 database, both buckets, every queue of both configs; DLQs with 14 days retention.
    const queues = queueNames(cfg.edge, cfg.email);
    expect(queues.filter((q) => q.dlq).length).toBeGreaterThanOrEqual(3);
    expect([...account.d1.keys()]).toEqual([cfg.edge.d1_databases[0]!.database_name]);
    expect([...account.buckets].sort()).toEqual([String(cfg.edge.vars.IMAGES_BUCKET), String(cfg.edge.vars.VIDEOS_BUCKET)].sort());
    for (const q of queues) expect(account.queues.get(q.name), q.name).toBe(q.dlq ? DLQ_RETENTION_SECONDS : undefined);
    expect(first.created).toHaveLength(1 + 2 + queues.length);

    // The created database's id replaced the placeholder in both config files.
    const uuid = account.d1.get(cfg.edge.d1_databases[0]!.database_name!)!;
    expect(readFileSync(cfg.edgeConfigPath, "utf8")).toContain(`database_id = "${uuid}"`);
    expect(readFileSync(cfg.emailConfigPath, "utf8")).toContain(`database_id = "${uuid}"`);

    // Secrets: every required one, values on stdin only (never in a log line or an argument).
    for (const name of cfg.edge.secrets?.required ?? []) expect(account.secrets.get(cfg.edge.name!)?.has(name), name).toBe(true);
    for (const name of cfg.email.secrets?.required ?? []) expect(account.secrets.get(cfg.email.name!)?.has(name), name).toBe(true);
    expect(account.secretValues.get(`${cfg.edge.name}:S3_SECRET_ACCESS_KEY`)).toBe("s3-secret-value");
    expect(account.secretValues.get(`${cfg.edge.name}:BETTER_AUTH_SECRET`)!.length).toBeGreaterThanOrEqual(32);
    const everything = lines.join("\n") + account.calls.flat().join(" ");
    for (const value of [...Object.values(secretSource), account.secretValues.get(`${cfg.edge.name}:BETTER_AUTH_SECRET`)!]) {
      expect(everything).not.toContain(value);
    }

    // CORS from the API's origins with ETag exposed; the abort-multipart lifecycle rule on both buckets.
    for (const bucket of account.buckets) {
      const cors = JSON.parse(account.cors.get(bucket)!);
      expect(cors.rules[0].allowed.origins).toEqual([cfg.edge.vars.PUBLIC_BASE_URL, cfg.edge.vars.TRUSTED_ORIGINS]);
      expect(cors.rules[0].exposeHeaders).toContain("ETag");
      expect(account.lifecycle.get(bucket)?.size).toBe(1);
    }

    // Order: migrations before any deploy; email-consumer before edge-api.
    const index = (pred: (a: string[]) => boolean) => account.calls.findIndex(pred);
    const migrate = index((a) => a[0] === "d1" && a[1] === "migrations");
    const deployEmail = index((a) => a[0] === "deploy" && a.includes(cfg.emailConfigPath));
    const deployEdge = index((a) => a[0] === "deploy" && a.includes(cfg.edgeConfigPath));
    expect(migrate).toBeGreaterThan(0);
    expect(migrate).toBeLessThan(deployEmail);
    expect(deployEmail).toBeLessThan(deployEdge);
    expect(account.calls.filter((a) => a[0] === "deploy").every((a) => a.includes("--env") && a.includes(env))).toBe(true);
    expect(first.healthy).toBe(true);

    // Second run: nothing created, no secret put again (BETTER_AUTH_SECRET in particular is not rotated).
    account.calls.length = 0;
    const second = await deploy({ ...options, secretSource: {} });
    expect(second.created).toEqual([]);
    expect(second.secretsSet).toEqual([]);
    expect(account.calls.some((a) => a[0] === "secret" && a[1] === "put")).toBe(false);
    expect(account.calls.some((a) => a[3] === "lifecycle" && a[4] === "add")).toBe(false);
    expect(second.deployed).toEqual([cfg.email.name, cfg.edge.name]);
  });
});

describe("preflight failures change nothing", () => {
  const mutating = (calls: string[][]) =>
    calls.filter((a) => ["create", "put", "apply", "set", "add"].some((verb) => a.includes(verb)) || a[0] === "deploy");

  it("a secret neither on the Worker nor in the environment stops the run and names it", async () => {
    const cfg = await filledConfigs("staging");
    const account = newAccount();
    const run = deploy({
      env: "staging",
      ...cfg,
      wrangler: standIn(account, { [cfg.edgeConfigPath]: cfg.edge, [cfg.emailConfigPath]: cfg.email }),
      secretSource: { S3_ACCESS_KEY_ID: "x", S3_SECRET_ACCESS_KEY: "y" },
      log: () => {},
    });
    await expect(run).rejects.toThrow(DeployError);
    await expect(run).rejects.toThrow(/POSTMARK_SERVER_TOKEN/);
    expect(mutating(account.calls)).toEqual([]);
  });

  it("placeholders in the committed configs stop a real run; --plan lists them and runs nothing", async () => {
    const edge = await read(path.join(REPO_ROOT, "wrangler.toml"), "production");
    const email = await read(path.join(REPO_ROOT, "email-consumer/wrangler.toml"), "production");
    const account = newAccount();
    const base = { env: "production" as const, edge, email, edgeConfigPath: "wrangler.toml", emailConfigPath: "email-consumer/wrangler.toml" };
    const wrangler = standIn(account, { "wrangler.toml": edge, "email-consumer/wrangler.toml": email });
    await expect(deploy({ ...base, wrangler, secretSource: {}, log: () => {} })).rejects.toThrow(/PUBLIC_BASE_URL/);
    expect(account.calls).toEqual([]);

    const lines: string[] = [];
    const plan = await deploy({ ...base, wrangler, secretSource: {}, log: (l) => lines.push(l), plan: true });
    expect(account.calls).toEqual([]);
    expect(lines.join("\n")).toMatch(/placeholders to replace/);
    expect(lines.join("\n")).toContain("wrangler d1 migrations apply DB --remote");
    expect(plan.deployed).toEqual([email.name, edge.name]);
  });

  it("not logged in: stops before anything else", async () => {
    const cfg = await filledConfigs("staging");
    const account = { ...newAccount(), loggedIn: false };
    await expect(
      deploy({ env: "staging", ...cfg, wrangler: standIn(account, {}), secretSource: {}, log: () => {} }),
    ).rejects.toThrow(/wrangler login/);
    expect(account.calls).toEqual([["whoami"]]);
  });
});
