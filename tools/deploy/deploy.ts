/**
 * `npm run deploy -- --env staging|production` (./main.ts): everything docs/deploy.md describes, in
 * order, idempotent (a second run creates nothing and only redeploys):
 *
 * 1. preflight, read-only: wrangler is logged in (`wrangler whoami`), no placeholder left in the configs
 *    (besides the D1 id, which step 2 fills in), every required secret either already set on the Worker or
 *    supplied in the environment of this command (`BETTER_AUTH_SECRET` and `PROCESSOR_SHARED_SECRET` may be
 *    generated on the first deploy). Nothing is changed when a preflight check fails.
 * 2. resources, created when missing: the D1 database (its id written into both wrangler configs in place
 *    of the placeholder), the two R2 buckets, every queue and dead-letter queue named in either config
 *    (dead-letter queues keep messages 14 days, the Queues maximum on paid plans).
 * 3. `wrangler d1 migrations apply DB --remote` (before any code that needs them).
 * 4. secrets missing on a Worker: `wrangler secret put NAME` with the value on stdin (never logged).
 * 5. R2 CORS (PUBLIC_BASE_URL + TRUSTED_ORIGINS; `content-type` listed explicitly and `ETag` exposed, as R2
 *    requires for browser and multipart uploads) and a lifecycle rule aborting incomplete multipart uploads
 *    after 1 day, on both buckets.
 * 6. `wrangler deploy` of email-consumer, then of edge-api (with the container image), so the email queue
 *    has its consumer before anything produces into it.
 * 7. `GET <PUBLIC_BASE_URL>/healthz` until it answers the deployed environment.
 *
 * The Cloudflare side is reached only through {@link WranglerRunner}, so the logic is tested offline with a
 * stand-in (tests/deploy/deploy.test.ts). With `plan: true` nothing is run: the commands are printed with
 * every resource assumed missing.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { placeholders, type RemoteEnv, type WorkerConfig } from "./config-checks.ts";

/** Result of one wrangler invocation. */
export interface WranglerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `wrangler <args>`; `input` is written to its stdin (secret values). Must not log `input`.
 */
export type WranglerRunner = (args: string[], opts?: { input?: string }) => Promise<WranglerResult>;

export interface DeployOptions {
  env: RemoteEnv;
  /** Resolved configs (wrangler's `unstable_readConfig`) of edge-api and email-consumer for `env`. */
  edge: WorkerConfig;
  email: WorkerConfig;
  /** Paths of the two config files (`-c` arguments, and where the D1 id is written). */
  edgeConfigPath: string;
  emailConfigPath: string;
  wrangler: WranglerRunner;
  /** Where secret values come from (normally `process.env`): `BETTER_AUTH_SECRET`, `S3_ACCESS_KEY_ID`, … */
  secretSource: Record<string, string | undefined>;
  /** One line of progress (no secret values are ever passed to it). */
  log: (line: string) => void;
  /** Print the commands instead of running them. */
  plan?: boolean;
  /** Health check of the deployed API; default `fetch` with retries for up to 2 minutes. */
  checkHealth?: (url: string, env: RemoteEnv) => Promise<boolean>;
}

/** What a run did, for the summary and the tests. */
export interface DeployReport {
  created: string[];
  secretsSet: string[];
  deployed: string[];
  healthy: boolean | null;
}

/** Raised when a step fails; `step` names it, the message says what to do. Nothing later runs. */
export class DeployError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

/** Retention of dead-letter queues: 14 days (1209600 s), the maximum Queues allows on paid plans. */
export const DLQ_RETENTION_SECONDS = 1_209_600;
/** Name of the lifecycle rule this script adds to both buckets. */
export const ABORT_MULTIPART_RULE = "abort-incomplete-multipart";

const envArgs = (o: DeployOptions, worker: "edge" | "email") =>
  worker === "edge" ? ["-c", o.edgeConfigPath, "--env", o.env] : ["-c", o.emailConfigPath, "--env", o.env];

/** Every queue either Worker produces to, consumes, or dead-letters into; DLQs flagged. */
export function queueNames(edge: WorkerConfig, email: WorkerConfig): { name: string; dlq: boolean }[] {
  const names = new Map<string, boolean>();
  for (const c of [edge, email]) {
    for (const p of c.queues?.producers ?? []) names.set(p.queue, names.get(p.queue) ?? false);
    for (const q of c.queues?.consumers ?? []) {
      names.set(q.queue, names.get(q.queue) ?? false);
      if (q.dead_letter_queue) names.set(q.dead_letter_queue, true);
    }
  }
  // A queue consumed as a DLQ of another is a DLQ even if it is also consumed itself.
  return [...names].map(([name, dlq]) => ({ name, dlq: dlq || name.endsWith("-dlq") })).sort((a, b) => a.name.localeCompare(b.name));
}

/** The bucket names of an env (vars VIDEOS_BUCKET and IMAGES_BUCKET of edge-api). */
export function bucketNames(edge: WorkerConfig): string[] {
  return ["VIDEOS_BUCKET", "IMAGES_BUCKET"].map((k) => String(edge.vars[k] ?? "")).filter(Boolean);
}

/** R2 CORS rules for browser uploads and downloads from the API's origins (docs/deploy.md step 4). */
export function corsRules(edge: WorkerConfig): object {
  const origins = [String(edge.vars.PUBLIC_BASE_URL ?? ""), ...String(edge.vars.TRUSTED_ORIGINS ?? "").split(",")]
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  return {
    rules: [
      {
        allowed: { origins: [...new Set(origins)], methods: ["GET", "PUT", "HEAD"], headers: ["content-type", "content-length"] },
        // Browsers read ETag of each multipart part to complete the upload.
        exposeHeaders: ["ETag"],
        maxAgeSeconds: 3600,
      },
    ],
  };
}

/**
 * Runs the whole deployment for one environment (see the module comment for the steps).
 * @returns what was created, which secrets were set, what was deployed, and the health check result
 * @throws DeployError at the first failing step (preflight failures change nothing)
 */
export async function deploy(o: DeployOptions): Promise<DeployReport> {
  const report: DeployReport = { created: [], secretsSet: [], deployed: [], healthy: null };
  const plan = o.plan === true;
  const run = async (step: string, args: string[], opts: { input?: string; okCodes?: number[] } = {}) => {
    o.log(`  $ wrangler ${args.join(" ")}${opts.input !== undefined ? " < (value on stdin)" : ""}`);
    if (plan) return { code: 0, stdout: "", stderr: "" };
    const r = await o.wrangler(args, { input: opts.input });
    if (r.code !== 0 && !(opts.okCodes ?? []).includes(r.code ?? -1)) {
      throw new DeployError(step, `wrangler ${args.slice(0, 3).join(" ")} exited ${r.code}: ${lastLines(r.stderr || r.stdout)}`);
    }
    return r;
  };
  const probe = async (args: string[]) => (plan ? { code: 1, stdout: "", stderr: "" } : o.wrangler(args));
  const d1 = o.edge.d1_databases.find((d) => d.binding === "DB");
  if (!d1?.database_name) throw new DeployError("preflight", "edge-api has no D1 binding DB with a database_name");

  // 1. Preflight (read-only).
  o.log(`== preflight (${o.env})`);
  const left = placeholders(o.env, o.edge, o.email).filter((p) => !p.includes(".d1 "));
  if (left.length > 0 && plan) o.log(`  placeholders to replace before a real run: ${left.join(", ")}`);
  else if (left.length > 0) {
    throw new DeployError("preflight", `replace the placeholders first (docs/deploy.md step 2): ${left.join(", ")}`);
  }
  if (!plan) {
    const who = await o.wrangler(["whoami"]);
    if (who.code !== 0 || /not authenticated/i.test(who.stdout + who.stderr)) {
      throw new DeployError("preflight", "wrangler is not logged in: run `npx wrangler login` or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID");
    }
  }
  const pendingSecrets: { worker: "edge" | "email"; name: string; value: string }[] = [];
  const missing: string[] = [];
  for (const worker of ["edge", "email"] as const) {
    const cfg = worker === "edge" ? o.edge : o.email;
    const required = cfg.secrets?.required ?? [];
    if (required.length === 0) continue;
    const listed = await probe(["secret", "list", ...envArgs(o, worker), "--format", "json"]);
    const existing = listed.code === 0 ? secretNames(listed.stdout) : new Set<string>();
    for (const name of required) {
      if (existing.has(name)) continue;
      let value = o.secretSource[name]?.trim();
      if (!value && (name === "BETTER_AUTH_SECRET" || name === "PROCESSOR_SHARED_SECRET")) {
        // First deploy: a random 48-byte secret (both want ≥ 32 characters). Never rotated here: changing
        // BETTER_AUTH_SECRET signs everyone out (docs/operations.md). PROCESSOR_SHARED_SECRET is only known
        // to the Worker, which hands it to its container.
        value = randomBytes(48).toString("base64");
      }
      if (value || plan) pendingSecrets.push({ worker, name, value: value ?? "" });
      else missing.push(`${cfg.name ?? worker}: ${name}`);
    }
  }
  if (missing.length > 0) {
    throw new DeployError(
      "preflight",
      `secrets not set on the Worker and not in this command's environment: ${missing.join(", ")} (export them for this run, docs/deploy.md step 5)`,
    );
  }

  // 2. Resources.
  o.log("== resources");
  const databases = await probe(["d1", "list", "--json"]);
  let databaseId = databases.code === 0 ? d1Id(databases.stdout, d1.database_name) : undefined;
  if (!databaseId) {
    await run("resources", ["d1", "create", d1.database_name]);
    report.created.push(`d1 ${d1.database_name}`);
    if (!plan) {
      const after = await run("resources", ["d1", "list", "--json"]);
      databaseId = d1Id(after.stdout, d1.database_name);
      if (!databaseId) throw new DeployError("resources", `d1 create ${d1.database_name} succeeded but the database is not listed`);
    }
  }
  if (databaseId) {
    for (const [file, cfg] of [[o.edgeConfigPath, o.edge], [o.emailConfigPath, o.email]] as const) {
      const current = cfg.d1_databases.find((d) => d.binding === "DB")?.database_id;
      if (current && current !== databaseId) {
        if (!/REPLACE_ME/.test(current)) {
          throw new DeployError("resources", `${file} has database_id ${current} but ${d1.database_name} is ${databaseId}`);
        }
        writeFileSync(file, readFileSync(file, "utf8").replaceAll(current, databaseId));
        o.log(`  wrote database_id ${databaseId} into ${file} (commit it)`);
      }
    }
  }
  for (const bucket of bucketNames(o.edge)) {
    const info = await probe(["r2", "bucket", "info", bucket, "--json"]);
    if (info.code !== 0) {
      await run("resources", ["r2", "bucket", "create", bucket]);
      report.created.push(`r2 ${bucket}`);
    }
  }
  for (const q of queueNames(o.edge, o.email)) {
    const info = await probe(["queues", "info", q.name]);
    if (info.code !== 0) {
      await run("resources", ["queues", "create", q.name, ...(q.dlq ? ["--message-retention-period-secs", String(DLQ_RETENTION_SECONDS)] : [])]);
      report.created.push(`queue ${q.name}`);
    }
  }

  // 3. Migrations.
  o.log("== D1 migrations");
  await run("migrations", ["d1", "migrations", "apply", "DB", "--remote", ...envArgs(o, "edge")]);

  // 4. Secrets.
  o.log("== secrets");
  for (const s of pendingSecrets) {
    await run("secrets", ["secret", "put", s.name, ...envArgs(o, s.worker)], { input: s.value });
    report.secretsSet.push(`${s.worker === "edge" ? o.edge.name : o.email.name}: ${s.name}`);
  }
  if (pendingSecrets.length === 0) o.log("  every required secret is set");

  // 5. R2 CORS and lifecycle.
  o.log("== R2 CORS and lifecycle");
  const corsFile = `${process.env.TMPDIR ?? "/tmp"}/vidsnap-r2-cors-${o.env}.json`;
  if (!plan) writeFileSync(corsFile, JSON.stringify(corsRules(o.edge), null, 2));
  for (const bucket of bucketNames(o.edge)) {
    await run("r2", ["r2", "bucket", "cors", "set", bucket, "--file", corsFile, "--force"]);
    const rules = await probe(["r2", "bucket", "lifecycle", "list", bucket]);
    if (!rules.stdout.includes(ABORT_MULTIPART_RULE)) {
      await run("r2", ["r2", "bucket", "lifecycle", "add", bucket, ABORT_MULTIPART_RULE, "--abort-multipart-days", "1", "--force"]);
    }
  }

  // 6. Workers (email-consumer first: the email queue gets its consumer before anything produces into it).
  o.log("== deploy");
  await run("deploy", ["deploy", ...envArgs(o, "email")]);
  report.deployed.push(o.email.name ?? "email-consumer");
  await run("deploy", ["deploy", ...envArgs(o, "edge")]);
  report.deployed.push(o.edge.name ?? "edge-api");

  // 7. Health.
  if (!plan) {
    const url = `${String(o.edge.vars.PUBLIC_BASE_URL).replace(/\/+$/, "")}/healthz`;
    o.log(`== health: GET ${url}`);
    report.healthy = await (o.checkHealth ?? defaultHealthCheck)(url, o.env);
    o.log(report.healthy ? "  healthy" : "  not healthy yet: check `npx wrangler tail` (docs/deploy.md step 8)");
  }
  return report;
}

/** Names in `wrangler secret list --format json` output (`[{name, type}]`). */
function secretNames(stdout: string): Set<string> {
  try {
    const list = JSON.parse(stdout.slice(stdout.indexOf("["))) as { name: string }[];
    return new Set(list.map((s) => s.name));
  } catch {
    return new Set();
  }
}

/** The uuid of database `name` in `wrangler d1 list --json` output. */
function d1Id(stdout: string, name: string): string | undefined {
  try {
    const list = JSON.parse(stdout.slice(stdout.indexOf("["))) as { name: string; uuid: string }[];
    return list.find((d) => d.name === name)?.uuid;
  } catch {
    return undefined;
  }
}

const lastLines = (text: string) => text.trim().split("\n").slice(-3).join(" | ");

async function defaultHealthCheck(url: string, env: RemoteEnv): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (res.ok && ((await res.json()) as { environment?: string }).environment === env) return true;
    } catch {
      /* not reachable yet */
    }
    await new Promise((r) => setTimeout(r, 5_000));
  }
  return false;
}
