/**
 * `npm run deploy -- --env staging|production [--plan] [--skip-checks]`: creates what is missing, applies
 * the D1 migrations, sets missing secrets, configures R2 CORS and lifecycle, deploys email-consumer then
 * edge-api with its container, and checks `/healthz` (./deploy.ts, docs/deploy.md).
 *
 * - `--plan` prints every command without contacting Cloudflare (all resources assumed missing).
 * - Runs `npm run check:deploy` first (offline checks of configs, migrations, bundles); `--skip-checks`
 *   skips it.
 * - Secret values come from this command's environment (`BETTER_AUTH_SECRET`, `S3_ACCESS_KEY_ID`,
 *   `S3_SECRET_ACCESS_KEY`, `R2_PARENT_API_TOKEN`, `POSTMARK_SERVER_TOKEN`) and are only used for secrets the Worker does not have
 *   yet; they reach wrangler on stdin and are never printed.
 * - Needs a Cloudflare login (`npx wrangler login` or `CLOUDFLARE_API_TOKEN` + `CLOUDFLARE_ACCOUNT_ID`) and
 *   Docker for the container image. Exit code 0 when deployed and healthy, 1 otherwise.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { BIN, REPO_ROOT as root } from "../paths.ts";
import { ensureWebBuild } from "../stack/web-build.ts";
import { offlineWranglerEnv } from "../wrangler.ts";
import { REMOTE_ENVS, type RemoteEnv, type WorkerConfig } from "./config-checks.ts";
import { deploy, DeployError, type WranglerRunner } from "./deploy.ts";

const EDGE_CFG = path.join(root, "wrangler.toml");
const EMAIL_CFG = path.join(root, "email-consumer/wrangler.toml");
const WRANGLER = path.join(BIN, "wrangler");

const { values } = parseArgs({
  options: { env: { type: "string" }, plan: { type: "boolean" }, "skip-checks": { type: "boolean" }, help: { type: "boolean", short: "h" } },
});
if (values.help || !REMOTE_ENVS.includes(values.env as RemoteEnv)) {
  console.log(`usage: npm run deploy -- --env ${REMOTE_ENVS.join("|")} [--plan] [--skip-checks]`);
  process.exit(values.help ? 0 : 2);
}
const env = values.env as RemoteEnv;

// Telemetry off, but this one talks to Cloudflare: no CLOUDFLARE_CF_FETCH_ENABLED override, no project XDG dir
// (the login of `wrangler login` lives in the user's own config folder).
const wranglerEnv: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" };

const wrangler: WranglerRunner = (args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(WRANGLER, args, { cwd: root, env: wranglerEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => resolve({ code: -1, stdout, stderr: stderr + String(err) }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });

if (!values.plan && !values["skip-checks"]) {
  console.log("== npm run check:deploy");
  const checks = spawnSync("npm", ["run", "--silent", "check:deploy"], { cwd: root, stdio: "inherit" });
  if (checks.status !== 0) {
    console.error("check:deploy failed: fix it before deploying");
    process.exit(1);
  }
}

// `wrangler deploy` uploads web/dist as the dashboard's static assets: build it when web/ changed.
if (!values.plan) await ensureWebBuild();

Object.assign(process.env, { WRANGLER_LOG: "error" }, values.plan ? offlineWranglerEnv() : {});
const { unstable_readConfig } = await import("wrangler");
const read = (config: string) => unstable_readConfig({ config, env }) as unknown as WorkerConfig;

try {
  const report = await deploy({
    env,
    edge: read(EDGE_CFG),
    email: read(EMAIL_CFG),
    edgeConfigPath: path.relative(root, EDGE_CFG),
    emailConfigPath: path.relative(root, EMAIL_CFG),
    wrangler,
    secretSource: process.env,
    log: (line) => console.log(line),
    plan: values.plan,
  });
  if (values.plan) process.exit(0);
  console.log(`\ncreated: ${report.created.join(", ") || "nothing"}`);
  console.log(`secrets set: ${report.secretsSet.join(", ") || "none"}`);
  console.log(`deployed: ${report.deployed.join(", ")}`);
  process.exit(report.healthy ? 0 : 1);
} catch (err) {
  console.error(err instanceof DeployError ? `deploy stopped at ${err.message}` : err);
  process.exit(1);
}
