/**
 * Offline checks of the two wrangler configs (wrangler.toml, email-consumer/wrangler.toml) for
 * `npm run check:deploy` (./check.ts): resource naming per environment, cross-Worker consistency, queue and
 * container settings tied to constants in the code, and drift between the bindings/vars each config
 * provides and the env interface each Worker declares by hand (edge-api/src/env.ts `Env`,
 * email-consumer/src/env.ts `EmailConsumerBindings`).
 *
 * Configs are read through wrangler's own parser (`unstable_readConfig`), so environment resolution is
 * exactly what `wrangler deploy --env X` sees.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** The part of wrangler's resolved config these checks read. */
export interface WorkerConfig {
  name?: string;
  vars: Record<string, unknown>;
  secrets?: { required?: string[] };
  d1_databases: { binding: string; database_name?: string; database_id?: string; migrations_dir?: string }[];
  queues: {
    producers?: { binding: string; queue: string }[];
    consumers?: {
      queue: string;
      max_batch_size?: number;
      max_retries?: number;
      max_concurrency?: number | null;
      dead_letter_queue?: string;
    }[];
  };
  durable_objects: { bindings: { name: string; class_name: string }[] };
  containers?: { class_name: string; instance_type?: unknown; max_instances?: number; image?: string; image_build_context?: string }[];
  migrations: { tag: string; new_sqlite_classes?: string[] }[];
  triggers: { crons?: string[] };
  observability?: { enabled?: boolean };
  kv_namespaces?: { binding: string }[];
  r2_buckets?: { binding: string }[];
  services?: { binding: string }[];
  ratelimits?: { name: string }[];
  analytics_engine_datasets?: { binding: string }[];
  configPath?: string;
}

export const REMOTE_ENVS = ["staging", "production"] as const;
export type RemoteEnv = (typeof REMOTE_ENVS)[number];
/** `undefined` = the top level (local stack). */
export type EnvName = RemoteEnv | undefined;
export const envLabel = (e: EnvName) => (e ? `env.${e}` : "top level");

export interface Configs {
  edge: Record<string, WorkerConfig>;
  email: Record<string, WorkerConfig>;
}
export const key = (e: EnvName) => e ?? "local";

/** Every name the Worker sees on `env` for this config: vars, bindings, required secrets. */
export function providedNames(c: WorkerConfig): Set<string> {
  const names = new Set<string>(Object.keys(c.vars ?? {}));
  for (const d of c.d1_databases ?? []) names.add(d.binding);
  for (const q of c.queues?.producers ?? []) names.add(q.binding);
  for (const b of c.durable_objects?.bindings ?? []) names.add(b.name);
  for (const b of c.kv_namespaces ?? []) names.add(b.binding);
  for (const b of c.r2_buckets ?? []) names.add(b.binding);
  for (const b of c.services ?? []) names.add(b.binding);
  for (const b of c.ratelimits ?? []) names.add(b.name);
  for (const b of c.analytics_engine_datasets ?? []) names.add(b.binding);
  for (const s of c.secrets?.required ?? []) names.add(s);
  return names;
}

/**
 * Property names of an exported interface in a TypeScript file (top-level members only).
 * @throws Error when the interface is not found
 */
export function interfaceKeys(file: string, name: string): string[] {
  const text = readFileSync(file, "utf8");
  const start = text.search(new RegExp(`export interface ${name}\\s*\\{`));
  if (start < 0) throw new Error(`interface ${name} not found in ${file}`);
  const body = text.slice(start, text.indexOf("\n}", start));
  return [...body.matchAll(/^ {2}(?:readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)\??\s*:/gm)].map((m) => m[1] as string);
}

/** A numeric `export const NAME = 5;` from a source file. */
export function numericConst(file: string, name: string): number {
  const m = new RegExp(`export const ${name}\\s*=\\s*([0-9_]+)`).exec(readFileSync(file, "utf8"));
  if (!m?.[1]) throw new Error(`${name} not found in ${file}`);
  return Number(m[1].replace(/_/g, ""));
}

/** A string `export const NAME = "x";` from a source file. */
export function stringConst(file: string, name: string): string {
  const m = new RegExp(`export const ${name}\\s*=\\s*"([^"]*)"`).exec(readFileSync(file, "utf8"));
  if (m?.[1] === undefined) throw new Error(`${name} not found in ${file}`);
  return m[1];
}

/**
 * Drift between a config's names and the Worker's env interface.
 * @param remote true: every interface member except `localOnly` must be provided (var, binding or required secret);
 *   false (local): only "config ⊆ interface" is checked, the rest falls back to defaults.
 */
export function driftProblems(
  worker: string,
  e: EnvName,
  c: WorkerConfig,
  declared: string[],
  remote: boolean,
  /** Members that exist only for the local stack (e.g. fault injection); never required remotely. */
  localOnly: readonly string[] = [],
): string[] {
  const provided = providedNames(c);
  const declaredSet = new Set(declared);
  const problems: string[] = [];
  for (const n of provided) {
    if (!declaredSet.has(n)) problems.push(`${worker} ${envLabel(e)} provides ${n}, not declared in the Worker's env interface`);
  }
  if (remote) {
    for (const n of declared) {
      if (!provided.has(n) && !localOnly.includes(n)) problems.push(`${worker} ${envLabel(e)} lacks ${n} (declared in the env interface; add a var, binding or secrets.required entry)`);
    }
  }
  return problems;
}

export interface CodeFacts {
  /** EXTRACT_MAX_DELIVERIES (edge-api/src/queues/extract-consumer.ts). */
  extractMaxDeliveries: number;
  /** WEBHOOK_MAX_ATTEMPTS (edge-api/src/services/webhooks/deliver-webhook.ts). */
  webhookMaxAttempts: number;
  /** DLQ_SUFFIX (edge-api/src/queues/index.ts). */
  dlqSuffix: string;
  root: string;
}

const CRON = "*/15 * * * *";

/** Queue names, DLQs, consumers and producers of one environment across both Workers. */
export function queueProblems(e: EnvName, edge: WorkerConfig, email: WorkerConfig, facts: CodeFacts): string[] {
  const p: string[] = [];
  const where = envLabel(e);
  const suffix = e === "staging" ? "-staging" : "";
  const base = ["vidsnap-extract", "vidsnap-events", "vidsnap-email"].map((q) => q + suffix);
  const [extractQ, eventsQ, emailQ] = base as [string, string, string];
  const consumers = [
    ...(edge.queues.consumers ?? []).map((c) => ({ ...c, worker: "edge-api" })),
    ...(email.queues.consumers ?? []).map((c) => ({ ...c, worker: "email-consumer" })),
  ];
  const producers = [...(edge.queues.producers ?? []), ...(email.queues.producers ?? [])];
  const all = new Set<string>([...producers.map((q) => q.queue), ...consumers.map((c) => c.queue)]);
  for (const c of consumers) if (c.dead_letter_queue) all.add(c.dead_letter_queue);

  const webhooksQ = "vidsnap-webhooks" + suffix;
  const expectProducer = { EXTRACT_QUEUE: extractQ, EVENTS_QUEUE: eventsQ, EMAIL_QUEUE: emailQ, WEBHOOK_QUEUE: webhooksQ } as const;
  for (const [binding, queue] of Object.entries(expectProducer)) {
    const got = edge.queues.producers?.find((q) => q.binding === binding)?.queue;
    if (got !== queue) p.push(`${where}: edge-api ${binding} → ${got ?? "(missing)"}, expected ${queue}`);
  }
  const expectConsumer: [string, string, string | undefined][] = [
    [extractQ, "edge-api", extractQ + facts.dlqSuffix],
    [eventsQ, "edge-api", eventsQ + facts.dlqSuffix],
    [extractQ + facts.dlqSuffix, "edge-api", undefined],
    [emailQ, "email-consumer", emailQ + facts.dlqSuffix],
    [webhooksQ, "edge-api", webhooksQ + facts.dlqSuffix],
    [webhooksQ + facts.dlqSuffix, "edge-api", undefined],
  ];
  for (const [queue, worker, dlq] of expectConsumer) {
    const found = consumers.filter((c) => c.queue === queue);
    if (found.length !== 1 || found[0]?.worker !== worker) {
      p.push(`${where}: ${queue} must have exactly one consumer (${worker}), found ${found.map((f) => f.worker).join(", ") || "none"}`);
      continue;
    }
    if (found[0]?.dead_letter_queue !== dlq) {
      p.push(`${where}: ${queue} dead_letter_queue = ${found[0]?.dead_letter_queue ?? "(none)"}, expected ${dlq ?? "(none)"}`);
    }
  }
  for (const c of consumers) {
    if (e && (c.max_concurrency === undefined || c.max_concurrency === null)) {
      p.push(`${where}: consumer of ${c.queue} has no max_concurrency (choose and explain one)`);
    }
    if (c.dead_letter_queue && !c.dead_letter_queue.endsWith(facts.dlqSuffix)) {
      p.push(`${where}: dead-letter queue ${c.dead_letter_queue} does not end in ${facts.dlqSuffix} (the queue() handler would treat its messages as jobs)`);
    }
  }
  const dlqs = new Set(consumers.map((c) => c.dead_letter_queue).filter(Boolean));
  for (const q of all) {
    if (q.endsWith(facts.dlqSuffix) && !dlqs.has(q)) p.push(`${where}: ${q} ends in ${facts.dlqSuffix} but is no consumer's dead-letter queue`);
    if (e === "staging" && !q.replace(new RegExp(`${facts.dlqSuffix}$`), "").endsWith("-staging")) {
      p.push(`${where}: queue ${q} lacks the -staging suffix`);
    }
    if (e !== "staging" && q.includes("staging")) p.push(`${where}: queue ${q} is a staging name`);
  }
  const extract = consumers.find((c) => c.queue === extractQ);
  if (extract) {
    if (extract.max_batch_size !== 1) p.push(`${where}: ${extractQ} max_batch_size must be 1 (one job per invocation)`);
    if (extract.max_retries !== facts.extractMaxDeliveries - 1) {
      p.push(`${where}: ${extractQ} max_retries = ${extract.max_retries}, must be EXTRACT_MAX_DELIVERIES - 1 = ${facts.extractMaxDeliveries - 1}`);
    }
  }
  const webhooks = consumers.find((c) => c.queue === webhooksQ);
  if (webhooks && (webhooks.max_retries ?? 3) < facts.webhookMaxAttempts - 1) {
    p.push(`${where}: ${webhooksQ} max_retries = ${webhooks.max_retries}, must be at least WEBHOOK_MAX_ATTEMPTS - 1 = ${facts.webhookMaxAttempts - 1}`);
  }
  return p;
}

/** D1, crons, observability, containers, vars of one remote environment. */
export function envProblems(e: RemoteEnv, edge: WorkerConfig, email: WorkerConfig, local: WorkerConfig, facts: CodeFacts): string[] {
  const p: string[] = [];
  const where = envLabel(e);
  const suffix = e === "staging" ? "-staging" : "";
  if (edge.name !== `vidsnap-edge-api${suffix}`) p.push(`${where}: edge-api name ${edge.name}, expected vidsnap-edge-api${suffix}`);
  if (email.name !== `vidsnap-email-consumer${suffix}`) p.push(`${where}: email-consumer name ${email.name}, expected vidsnap-email-consumer${suffix}`);
  for (const [w, c] of [["edge-api", edge], ["email-consumer", email]] as const) {
    if (c.vars.ENVIRONMENT !== e) p.push(`${where}: ${w} ENVIRONMENT = ${String(c.vars.ENVIRONMENT)}, expected ${e}`);
    if (c.observability?.enabled !== true) p.push(`${where}: ${w} observability.enabled is not true`);
    if (!c.secrets?.required?.length) p.push(`${where}: ${w} has no secrets.required`);
  }
  // D1: one database per env, shared by both Workers, same migrations folder.
  const d1e = edge.d1_databases.find((d) => d.binding === "DB");
  const d1m = email.d1_databases.find((d) => d.binding === "DB");
  if (!d1e || !d1m) p.push(`${where}: DB binding missing`);
  else {
    if (d1e.database_name !== `vidsnap${suffix}`) p.push(`${where}: D1 database_name ${d1e.database_name}, expected vidsnap${suffix}`);
    if (d1e.database_name !== d1m.database_name || d1e.database_id !== d1m.database_id) {
      p.push(`${where}: edge-api and email-consumer bind different D1 databases`);
    }
    const abs = (c: WorkerConfig, dir?: string) => path.resolve(path.dirname(c.configPath ?? facts.root + "/x"), dir ?? "migrations");
    if (abs(edge, d1e.migrations_dir) !== path.join(facts.root, "schema/migrations") || abs(email, d1m.migrations_dir) !== path.join(facts.root, "schema/migrations")) {
      p.push(`${where}: migrations_dir must be schema/migrations in both configs`);
    }
    const localD1 = local.d1_databases.find((d) => d.binding === "DB");
    if (localD1 && d1e.database_id === localD1.database_id) p.push(`${where}: D1 database_id equals the local placeholder`);
  }
  // Buckets (reached through the S3 API: names are vars).
  if (edge.vars.VIDEOS_BUCKET !== `vidsnap${suffix}-videos`) p.push(`${where}: VIDEOS_BUCKET ${String(edge.vars.VIDEOS_BUCKET)}, expected vidsnap${suffix}-videos`);
  if (edge.vars.IMAGES_BUCKET !== `vidsnap${suffix}-images`) p.push(`${where}: IMAGES_BUCKET ${String(edge.vars.IMAGES_BUCKET)}, expected vidsnap${suffix}-images`);
  // Cron.
  for (const [w, c, want] of [["edge-api", edge, true], ["email-consumer", email, false]] as const) {
    const has = (c.triggers?.crons ?? []).includes(CRON);
    if (want && !has) p.push(`${where}: ${w} lacks the cron ${CRON}`);
  }
  // Processor: the Containers binding, never a URL.
  if (edge.vars.PROCESSOR_URL) p.push(`${where}: PROCESSOR_URL must be empty (the processor is the PROCESSOR container)`);
  const containers = edge.containers ?? [];
  const pc = containers.find((c) => c.class_name === "ProcessorContainer");
  if (containers.length !== 1 || !pc) p.push(`${where}: expected exactly one container, class ProcessorContainer`);
  else {
    if (!pc.instance_type) p.push(`${where}: container has no instance_type`);
    const instances = Number(edge.vars.PROCESSOR_INSTANCES);
    if (pc.max_instances !== instances) {
      p.push(`${where}: container max_instances = ${pc.max_instances}, must equal the PROCESSOR_INSTANCES var = ${String(edge.vars.PROCESSOR_INSTANCES)}`);
    }
    if (pc.image !== path.join(facts.root, "ffmpeg-container/Dockerfile") || pc.image_build_context !== facts.root) {
      p.push(`${where}: container image must be ffmpeg-container/Dockerfile with the repository root as context`);
    }
  }
  const doBinding = edge.durable_objects.bindings.find((b) => b.name === "PROCESSOR");
  if (doBinding?.class_name !== "ProcessorContainer") p.push(`${where}: PROCESSOR must bind the ProcessorContainer class`);
  if (!edge.migrations.some((m) => m.new_sqlite_classes?.includes("ProcessorContainer"))) {
    p.push(`${where}: no migration declares ProcessorContainer in new_sqlite_classes`);
  }
  return p;
}

/** Staging and production must not share any resource. */
export function isolationProblems(configs: Configs): string[] {
  const resources = (e: RemoteEnv) => {
    const edge = configs.edge[e] as WorkerConfig;
    const email = configs.email[e] as WorkerConfig;
    const r = new Set<string>();
    for (const c of [edge, email]) {
      r.add(`worker:${c.name}`);
      for (const d of c.d1_databases) r.add(`d1:${d.database_name}`).add(`d1id:${d.database_id}`);
      for (const q of c.queues.producers ?? []) r.add(`queue:${q.queue}`);
      for (const q of c.queues.consumers ?? []) r.add(`queue:${q.queue}`);
    }
    r.add(`bucket:${String(edge.vars.VIDEOS_BUCKET)}`).add(`bucket:${String(edge.vars.IMAGES_BUCKET)}`);
    return r;
  };
  const prod = resources("production");
  return [...resources("staging")].filter((r) => prod.has(r)).map((r) => `staging and production share ${r}`);
}

/**
 * Local stack invariants: no containers at top level; the processor's Durable Object is bound as in
 * production (dispatch runs through it locally too), its container runtime stood in by PROCESSOR_URL.
 */
export function localProblems(edge: WorkerConfig): string[] {
  const p: string[] = [];
  if ((edge.containers ?? []).length) p.push("top level: containers must stay out of the local stack (no Docker locally)");
  if (!edge.vars.PROCESSOR_URL) p.push("top level: PROCESSOR_URL must be set for the local stack");
  if (edge.durable_objects?.bindings.find((b) => b.name === "PROCESSOR")?.class_name !== "ProcessorContainer") {
    p.push("top level: PROCESSOR must bind the ProcessorContainer class (jobs are dispatched through it locally too)");
  }
  if (!(edge.migrations ?? []).some((m) => m.new_sqlite_classes?.includes("ProcessorContainer"))) {
    p.push("top level: no migration declares ProcessorContainer in new_sqlite_classes");
  }
  if (edge.vars.ENVIRONMENT !== "local") p.push("top level: ENVIRONMENT must be local");
  if (!(edge.triggers?.crons ?? []).includes(CRON)) p.push(`top level: cron ${CRON} missing`);
  return p;
}

const PLACEHOLDER = /REPLACE_ME|ACCOUNT_ID|\.example\b/;

/** Values still holding a placeholder (informational: CI passes with them, a deploy must not). */
export function placeholders(e: RemoteEnv, edge: WorkerConfig, email: WorkerConfig): string[] {
  const out: string[] = [];
  for (const [w, c] of [["edge-api", edge], ["email-consumer", email]] as const) {
    for (const [k, v] of Object.entries(c.vars)) if (typeof v === "string" && PLACEHOLDER.test(v)) out.push(`${w}.${k}`);
    for (const d of c.d1_databases) if (PLACEHOLDER.test(d.database_id ?? "")) out.push(`${w}.d1 ${d.binding}.database_id`);
  }
  return out;
}
