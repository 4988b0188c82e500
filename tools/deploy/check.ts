/**
 * `npm run check:deploy [-- --keep]`: everything about a deployment that can be checked offline, one table
 * row per check (the list: docs/deploy.md "What CI checks"); exits 1 when a check fails. `--keep` keeps the
 * temp folder with bundles and logs.
 *
 * wrangler 4.86 cannot skip the container image build in a dry run (it runs `docker info` + `docker build`)
 * and there is no Docker engine here, so WRANGLER_DOCKER_BIN points at a recording stand-in: the dry run
 * (bindings, Durable Object migrations, container config) runs for real and the `docker build` command it
 * would run is checked; only the image build itself is not done. hadolint is not installable offline (not in
 * Debian 12, npm wrappers download binaries), hence ./dockerfile-lint.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { NODE_LTS_VERSION } from "../node-lts.ts";
import { BIN, REPO_ROOT as root } from "../paths.ts";
import { ensureWebBuild, WEB_DIST } from "../stack/web-build.ts";
import { lintDockerfile, DOCKERFILE_RULES } from "./dockerfile-lint.ts";
import { offlineEnv, run, tail } from "./exec.ts";
import {
  REMOTE_ENVS,
  driftProblems,
  envProblems,
  interfaceKeys,
  isolationProblems,
  key,
  localProblems,
  numericConst,
  placeholders,
  queueProblems,
  stringConst,
  type CodeFacts,
  type Configs,
  type EnvName,
  type WorkerConfig,
} from "./config-checks.ts";

/**
 * Bundle budget per Worker, KiB of gzip (what Cloudflare's script size limit counts: 3 MB on the free
 * plan, 10 MB on paid). 1 MiB is a third of the free limit and ~2.5× edge-api today (~410 KiB): room to
 * grow, but pulling a heavy dependency into a Worker by mistake (e.g. the AWS SDK, ~1 MB gzip, which only
 * the processor needs) fails CI. Bigger bundles also cost cold-start time.
 */
const GZIP_BUDGET_KIB = 1024;

const keep = process.argv.includes("--keep");
const tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-check-deploy-"));
const WRANGLER = path.join(BIN, "wrangler");
const DRIZZLE = path.join(BIN, "drizzle-kit");
const EDGE_CFG = path.join(root, "wrangler.toml");
const EMAIL_CFG = path.join(root, "email-consumer/wrangler.toml");
/** The lean ffmpeg build script the image's build stage must run (dockerfile-lint.ts rule lean-ffmpeg). */
const FFMPEG_BUILD_SCRIPT = "ffmpeg-container/build/build-ffmpeg.sh";

type Status = "PASS" | "FAIL" | "WARN";
interface Row {
  check: string;
  status: Status;
  detail: string;
}
const rows: Row[] = [];
const pass = (check: string, detail: string) => rows.push({ check, status: "PASS", detail });
const fail = (check: string, detail: string) => rows.push({ check, status: "FAIL", detail });
const warn = (check: string, detail: string) => rows.push({ check, status: "WARN", detail });
const problemsRow = (check: string, problems: string[], ok: string) =>
  problems.length ? fail(check, problems.join("\n")) : pass(check, ok);

/** Runs `fn` over `items`, at most `n` at a time, keeping order. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

// ---- wrangler configs -------------------------------------------------------------------------------

async function readConfigs(): Promise<Configs> {
  Object.assign(process.env, offlineEnv(), { WRANGLER_LOG: process.env.WRANGLER_LOG ?? "error" });
  const { unstable_readConfig } = await import("wrangler");
  const read = (config: string, env: EnvName) => unstable_readConfig({ config, env }) as unknown as WorkerConfig;
  const configs: Configs = { edge: {}, email: {} };
  for (const e of [undefined, ...REMOTE_ENVS] as EnvName[]) {
    configs.edge[key(e)] = read(EDGE_CFG, e);
    configs.email[key(e)] = read(EMAIL_CFG, e);
  }
  return configs;
}

/** Paths the edge-api Worker answers itself: they must run the Worker before any static asset (wrangler.toml). */
const WORKER_FIRST = ["/api/*", "/v1/*", "/openapi.json", "/docs", "/healthz"];

/**
 * The dashboard (web/, docs/architecture.md "Dashboard") in every environment: `[assets]` serves web/dist as a
 * single-page application with the API's paths Worker-first, and the built `_headers` sets a CSP on the page.
 * @returns problems, one line each
 */
function dashboardAssetProblems(configs: Configs): string[] {
  const problems: string[] = [];
  for (const e of [undefined, ...REMOTE_ENVS] as EnvName[]) {
    const assets = (configs.edge[key(e)] as WorkerConfig & {
      assets?: { directory?: string; not_found_handling?: string; run_worker_first?: string[] | boolean };
    }).assets;
    const where = `edge-api ${e ?? "top level"}`;
    if (!assets?.directory || path.resolve(root, assets.directory) !== WEB_DIST) {
      problems.push(`${where}: [assets] directory must be web/dist (is ${assets?.directory ?? "unset"})`);
      continue;
    }
    if (assets.not_found_handling !== "single-page-application") problems.push(`${where}: [assets] not_found_handling must be "single-page-application"`);
    const first = Array.isArray(assets.run_worker_first) ? assets.run_worker_first : [];
    const missing = WORKER_FIRST.filter((p) => !first.includes(p));
    if (missing.length) problems.push(`${where}: [assets] run_worker_first lacks ${missing.join(", ")}`);
  }
  const headersFile = path.join(WEB_DIST, "_headers");
  const headers = existsSync(headersFile) ? readFileSync(headersFile, "utf8") : "";
  if (!/^\/\*\s*$[\s\S]*?^\s+Content-Security-Policy: default-src 'none'/m.test(headers)) {
    problems.push("web/dist/_headers: no `/*` rule with `Content-Security-Policy: default-src 'none'…` (web/public/_headers)");
  }
  return problems;
}

// ---- dry runs ----------------------------------------------------------------------------------------

interface DryRun {
  worker: "edge-api" | "email-consumer";
  env: EnvName;
}

const DOCKER_STUB = `#!/bin/sh
# Stand-in for docker during \`wrangler deploy --dry-run\` (tools/deploy/check.ts): records the command
# and the Dockerfile wrangler pipes on stdin, builds nothing.
dir=$(dirname "$0")
printf '%s\\n' "$*" >> "$dir/calls.log"
case "$1" in build) cat > "$dir/Dockerfile.stdin" ;; esac
exit 0
`;

async function dryRun({ worker, env }: DryRun): Promise<void> {
  const label = `dry-run ${worker} (${env ?? "top level"})`;
  const outdir = path.join(tmp, "dist", `${worker}-${key(env)}`);
  const stubDir = path.join(tmp, "docker", `${worker}-${key(env)}`);
  mkdirSync(stubDir, { recursive: true });
  const stub = path.join(stubDir, "docker");
  writeFileSync(stub, DOCKER_STUB);
  chmodSync(stub, 0o755);
  const args = ["deploy", "--dry-run", "--outdir", outdir, "-c", worker === "edge-api" ? EDGE_CFG : EMAIL_CFG];
  if (env) args.push("--env", env);
  const r = await run(WRANGLER, args, { cwd: root, env: offlineEnv({ WRANGLER_DOCKER_BIN: stub }), timeoutMs: 45_000 });
  writeFileSync(path.join(tmp, `${worker}-${key(env)}.log`), r.output);
  if (r.code !== 0 || !r.output.includes("--dry-run: exiting now.")) {
    fail(label, `wrangler exited ${r.code}:\n${tail(r.output)}`);
    return;
  }
  const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(r.output);
  if (!m) {
    fail(label, "no bundle size in wrangler's output");
    return;
  }
  const raw = Number(m[1]);
  const gzip = Number(m[2]);
  const size = `${(raw / 1024).toFixed(2)} MiB raw, ${gzip.toFixed(0)} KiB gzip (budget ${GZIP_BUDGET_KIB} KiB gzip)`;
  const problems: string[] = [];
  if (gzip > GZIP_BUDGET_KIB) problems.push(`bundle over budget: ${size}`);
  let note = "";
  const calls = existsSync(path.join(stubDir, "calls.log")) ? readFileSync(path.join(stubDir, "calls.log"), "utf8") : "";
  if (worker === "edge-api" && env) {
    const build = calls.split("\n").find((l) => l.startsWith("build "));
    if (!build) problems.push("wrangler did not build the container image");
    else {
      if (!build.includes("--platform linux/amd64")) problems.push(`image not built for linux/amd64: docker ${build}`);
      if (!build.endsWith(` -f - ${root}`)) problems.push(`unexpected build context: docker ${build}`);
      const piped = readFileSync(path.join(stubDir, "Dockerfile.stdin"), "utf8");
      if (piped !== readFileSync(path.join(root, "ffmpeg-container/Dockerfile"), "utf8")) {
        problems.push("the Dockerfile wrangler builds is not ffmpeg-container/Dockerfile");
      }
      note = "; image build recorded, not run (no Docker): docker build --platform linux/amd64 -f - <repo root>";
    }
  } else if (calls) problems.push(`unexpected docker calls: ${calls.trim()}`);
  if (problems.length) fail(label, problems.join("\n"));
  else pass(label, size + note);
}

// ---- env schemas on the real configs -------------------------------------------------------------------

async function envSchemaCheck(configs: Configs): Promise<void> {
  const label = "env schema: missing secret rejected";
  // Computed specifiers: the Worker modules are plain TS (zod), loaded by tsx at run time; tsc does not
  // pull them (and their workers-types globals) into the Node program.
  const edgeMod = (await import(pathToFileURL(path.join(root, "edge-api/src/env.ts")).href)) as {
    loadConfig(env: Record<string, unknown>): unknown;
  };
  const emailMod = (await import(pathToFileURL(path.join(root, "email-consumer/src/env.ts")).href)) as {
    parseEnv(env: Record<string, unknown>): unknown;
  };
  const problems: string[] = [];
  const binding = { prepare() {}, send() {}, idFromName() {} };
  let cases = 0;
  for (const e of REMOTE_ENVS) {
    for (const [worker, cfg] of [["edge-api", configs.edge[e]], ["email-consumer", configs.email[e]]] as const) {
      if (!cfg) continue;
      const env: Record<string, unknown> = { ...cfg.vars };
      for (const d of cfg.d1_databases) env[d.binding] = binding;
      for (const q of cfg.queues.producers ?? []) env[q.binding] = binding;
      for (const b of cfg.durable_objects.bindings) env[b.name] = binding;
      const secrets = cfg.secrets?.required ?? [];
      for (const s of secrets) env[s] = `check-deploy-dummy-${s}-`.padEnd(48, "x");
      const accepts = (candidate: Record<string, unknown>): string | undefined => {
        try {
          if (worker === "edge-api") edgeMod.loadConfig({ ...candidate });
          else emailMod.parseEnv({ ...candidate });
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      };
      cases++;
      const full = accepts(env);
      if (full) problems.push(`${worker} env.${e} with every secret is rejected: ${full}`);
      for (const s of secrets) {
        cases++;
        const without = { ...env };
        delete without[s];
        const r = accepts(without);
        if (r === undefined) problems.push(`${worker} env.${e} without ${s} is accepted`);
        else if (!r.includes(s)) problems.push(`${worker} env.${e} without ${s}: rejected, but not for ${s} (${r})`);
      }
    }
  }
  problemsRow(
    label,
    problems,
    `${cases} cases on the staging/production vars: complete env accepted, each missing secret rejected (unit tests: tests/workers/app.test.ts, tests/email/env.test.ts)`,
  );
}

// ---- secrets documented ------------------------------------------------------------------------------

function secretsDocCheck(configs: Configs): void {
  const label = "secrets documented (docs/deploy.md)";
  const doc = path.join(root, "docs/deploy.md");
  if (!existsSync(doc)) return void fail(label, "docs/deploy.md is missing");
  const lines = readFileSync(doc, "utf8").split("\n");
  const missing: string[] = [];
  let n = 0;
  for (const e of REMOTE_ENVS) {
    for (const [worker, cfg] of [["edge-api", configs.edge[e]], ["email-consumer", configs.email[e]]] as const) {
      for (const s of cfg?.secrets?.required ?? []) {
        n++;
        const ok = lines.some(
          (l) =>
            l.includes(`wrangler secret put ${s}`) &&
            l.includes(`--env ${e}`) &&
            (worker === "email-consumer") === l.includes("-c email-consumer/wrangler.toml"),
        );
        if (!ok) missing.push(`no "wrangler secret put ${s} …--env ${e}" line for ${worker}`);
      }
    }
  }
  problemsRow(label, missing, `${n} secret put commands (${[...new Set(REMOTE_ENVS.flatMap((e) => [...(configs.edge[e]?.secrets?.required ?? []), ...(configs.email[e]?.secrets?.required ?? [])]))].join(", ")})`);
}

// ---- migrations ----------------------------------------------------------------------------------------

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(path.join(dir, d.name), base) : [path.relative(base, path.join(dir, d.name))],
  );
}

async function drizzleCheck(): Promise<void> {
  const label = "migrations match schema/db.ts";
  const src = path.join(root, "schema/migrations");
  const copy = path.join(tmp, "migrations");
  mkdirSync(copy, { recursive: true });
  for (const f of listFiles(src)) {
    mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    writeFileSync(path.join(copy, f), readFileSync(path.join(src, f)));
  }
  const before = new Map(listFiles(copy).map((f) => [f, readFileSync(path.join(copy, f), "utf8")]));
  // drizzle-kit prefixes --out with "./": pass it relative to the working directory.
  const r = await run(DRIZZLE, ["generate", "--dialect", "sqlite", "--schema", "./schema/db.ts", "--out", path.relative(root, copy)], {
    cwd: root,
    env: offlineEnv(),
    timeoutMs: 30_000,
  });
  if (r.code !== 0) return void fail(label, `drizzle-kit generate exited ${r.code}:\n${tail(r.output)}`);
  const changed = listFiles(copy).filter((f) => before.get(f) !== readFileSync(path.join(copy, f), "utf8"));
  if (changed.length) {
    fail(label, `schema/db.ts changed without a migration; drizzle-kit would write: ${changed.join(", ")} (run npm run db:generate)`);
  } else pass(label, `drizzle-kit generate: no schema changes (${before.size} files in schema/migrations)`);
}

async function d1ApplyCheck(): Promise<void> {
  const label = "migrations apply to an empty D1";
  const sql = readdirSync(path.join(root, "schema/migrations")).filter((f) => f.endsWith(".sql"));
  const r = await run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", path.join(tmp, "d1"), "-c", EDGE_CFG], {
    cwd: root,
    env: offlineEnv(),
    timeoutMs: 45_000,
  });
  const applied = sql.filter((f) => new RegExp(`${f.replace(/\./g, "\\.")}\\s*│\\s*✅`).test(r.output)).length;
  if (r.code !== 0 || /❌/.test(r.output) || applied !== sql.length) {
    fail(label, `wrangler exited ${r.code}, ${applied}/${sql.length} applied:\n${tail(r.output)}`);
  } else pass(label, `${applied}/${sql.length} migrations applied (wrangler d1 migrations apply --local --persist-to <tmp>)`);
}

// ---- Dockerfile -----------------------------------------------------------------------------------------

function dockerfileCheck(): void {
  const file = path.join(root, "ffmpeg-container/Dockerfile");
  const issues = lintDockerfile(readFileSync(file, "utf8"), { nodeVersion: NODE_LTS_VERSION, ffmpegBuildScript: FFMPEG_BUILD_SCRIPT });
  const line = (i: (typeof issues)[number]) => `ffmpeg-container/Dockerfile:${i.line} [${i.rule}] ${i.message}`;
  problemsRow(
    "Dockerfile lint",
    issues.filter((i) => i.rule !== "node-version").map(line),
    `${DOCKERFILE_RULES.length - 1} rules of tools/deploy/dockerfile-lint.ts (hadolint not installable offline), lean-ffmpeg included`,
  );
  // Its own row: the image's Node is the one CI runs the processor's tests on (tools/test.ts, suite processor).
  problemsRow(
    "Dockerfile Node = NODE_LTS_VERSION",
    issues.filter((i) => i.rule === "node-version").map(line),
    `node:${NODE_LTS_VERSION}-… base images and esbuild --target=node${NODE_LTS_VERSION.split(".")[0]} (tools/node-lts.ts)`,
  );
  // wrangler pipes the Dockerfile on stdin (`docker build -f - <context>`): BuildKit then reads the
  // context's .dockerignore, not ffmpeg-container/Dockerfile.dockerignore.
  if (!existsSync(path.join(root, ".dockerignore"))) {
    warn(
      "build context ignore file",
      "no .dockerignore at the repository root: wrangler builds with the Dockerfile on stdin, so " +
        "ffmpeg-container/Dockerfile.dockerignore is not used and the whole repository (node_modules…) is sent as context",
    );
  }
}

// ---- main -----------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = Date.now();
  let configs: Configs;
  try {
    configs = await readConfigs();
  } catch (err) {
    fail("wrangler configs parse", (err as Error).message);
    return report(started);
  }
  const facts: CodeFacts = {
    extractMaxDeliveries: numericConst(path.join(root, "edge-api/src/queues/extract-consumer.ts"), "EXTRACT_MAX_DELIVERIES"),
    webhookMaxAttempts: numericConst(path.join(root, "edge-api/src/services/webhooks/deliver-webhook.ts"), "WEBHOOK_MAX_ATTEMPTS"),
    dlqSuffix: stringConst(path.join(root, "edge-api/src/queues/index.ts"), "DLQ_SUFFIX"),
    root,
  };

  // The dashboard's static assets (wrangler.toml [assets]): the dry runs need web/dist to exist.
  try {
    await ensureWebBuild(() => undefined);
    problemsRow("config: dashboard assets", dashboardAssetProblems(configs), "web/dist built; [assets] of every env: SPA, API paths Worker-first; _headers CSP");
  } catch (err) {
    fail("config: dashboard assets", (err as Error).message.slice(0, 500));
  }

  // Slow, independent: the wrangler and drizzle-kit processes.
  const dryRuns: DryRun[] = [
    { worker: "edge-api", env: undefined },
    { worker: "email-consumer", env: undefined },
    ...REMOTE_ENVS.flatMap((env) => [
      { worker: "edge-api" as const, env },
      { worker: "email-consumer" as const, env },
    ]),
  ];
  const slow = pool<() => Promise<void>, void>(
    [...dryRuns.map((d) => () => dryRun(d)), drizzleCheck, d1ApplyCheck],
    Math.max(2, Math.min(4, os.availableParallelism())),
    (f) => f(),
  );

  // Fast, in-process.
  const cfg = (w: "edge" | "email", e: EnvName) => configs[w][key(e)] as WorkerConfig;
  problemsRow(
    "config: queues and dead-letter queues",
    [undefined, ...REMOTE_ENVS].flatMap((e) => queueProblems(e as EnvName, cfg("edge", e as EnvName), cfg("email", e as EnvName), facts)),
    "local/staging/production: producers, one consumer each, DLQs end in -dlq, staging names suffixed, max_concurrency set, extract max_retries = EXTRACT_MAX_DELIVERIES - 1",
  );
  problemsRow(
    "config: environments",
    [
      ...localProblems(cfg("edge", undefined)),
      ...REMOTE_ENVS.flatMap((e) => envProblems(e, cfg("edge", e), cfg("email", e), cfg("edge", undefined), facts)),
      ...isolationProblems(configs),
    ],
    `D1 shared by both Workers per env, buckets, cron, observability, container (max_instances = the PROCESSOR_INSTANCES var), staging/production isolated`,
  );
  const edgeKeys = interfaceKeys(path.join(root, "edge-api/src/env.ts"), "Env");
  const emailKeys = interfaceKeys(path.join(root, "email-consumer/src/env.ts"), "EmailConsumerBindings");
  const { LOCAL_ONLY_ENV_KEYS } = (await import(pathToFileURL(path.join(root, "edge-api/src/env.ts")).href)) as {
    LOCAL_ONLY_ENV_KEYS: readonly string[];
  };
  problemsRow(
    "binding drift: config ↔ env interfaces",
    [undefined, ...REMOTE_ENVS].flatMap((e) => [
      ...driftProblems("edge-api", e as EnvName, cfg("edge", e as EnvName), edgeKeys, e !== undefined, LOCAL_ONLY_ENV_KEYS),
      ...driftProblems("email-consumer", e as EnvName, cfg("email", e as EnvName), emailKeys, e !== undefined),
    ]),
    `edge-api Env (${edgeKeys.length} members), email-consumer EmailConsumerBindings (${emailKeys.length}) match vars + bindings + secrets.required of every env`,
  );
  try {
    await envSchemaCheck(configs);
  } catch (err) {
    fail("env schema: missing secret rejected", (err as Error).stack ?? String(err));
  }
  secretsDocCheck(configs);
  dockerfileCheck();
  await slow;

  const ph = REMOTE_ENVS.flatMap((e) => placeholders(e, cfg("edge", e), cfg("email", e)).map((p) => `${e}: ${p}`));
  if (ph.length) warn("placeholders to replace before deploying", ph.join("\n"));
  return report(started);
}

function report(started: number): number {
  const labels = ["edge-api (top", "edge-api (staging", "edge-api (production", "email-consumer (top", "email-consumer (staging", "email-consumer (production"];
  const order = (r: Row) =>
    r.check.startsWith("dry-run") ? labels.findIndex((l) => r.check.includes(l)) : r.check.startsWith("migrations") ? 10 : 20;
  rows.sort((a, b) => order(a) - order(b));
  const w = Math.max(...rows.map((r) => r.check.length));
  const line = `+${"-".repeat(w + 2)}+------+${"-".repeat(60)}`;
  console.log(line);
  console.log(`| ${"check".padEnd(w)} | stat | detail`);
  console.log(line);
  for (const r of rows) {
    const [first, ...rest] = r.detail.split("\n");
    console.log(`| ${r.check.padEnd(w)} | ${r.status} | ${first ?? ""}`);
    for (const l of rest) console.log(`| ${"".padEnd(w)} |      |   ${l}`);
  }
  console.log(line);
  const failed = rows.filter((r) => r.status === "FAIL").length;
  console.log(
    `${rows.length} checks: ${rows.filter((r) => r.status === "PASS").length} passed, ${failed} failed, ` +
      `${rows.filter((r) => r.status === "WARN").length} warnings (${((Date.now() - started) / 1000).toFixed(1)} s)` +
      (keep ? `; outputs kept in ${tmp}` : ""),
  );
  return failed ? 1 : 0;
}

const code = await main().catch((err: unknown) => {
  console.error(err);
  return 1;
});
if (!keep) rmSync(tmp, { recursive: true, force: true });
process.exit(code);
