/**
 * The processor seam: the one place that knows how the Worker reaches the ffmpeg processor
 * (docs/architecture.md "Processor HTTP API", "Dispatch and long jobs").
 *
 * Every request goes through the Durable Object {@link ProcessorContainer} that fronts the container, in
 * production and locally alike. Jobs are spread over PROCESSOR_INSTANCES named instances (a var equal to the
 * container's `max_instances` in wrangler.toml, checked by `npm run check:deploy`) by a hash of the routing
 * key (the job's id), so a redelivered job reaches the instance that may still be running
 * it and gets its 409. Where Cloudflare Containers cannot run (the local stack, the workerd tests) the
 * object's container runtime is stood in by the Node processor at PROCESSOR_URL (./local-runtime.ts); the
 * rest of the path is the production code.
 *
 * Every request with a body is signed with PROCESSOR_SHARED_SECRET (runtime/job-signature.ts): the
 * processor refuses unsigned jobs with 401.
 */
import { Container, getContainer } from "@cloudflare/containers";
import { createLogger } from "../../../runtime/log.ts";
import { signJobRequest } from "../../../runtime/job-signature.ts";
import { createDeps } from "../context.ts";
import { loadConfig, type Config, type Env } from "../env.ts";
import { jobKindNamed } from "../lifecycle/kinds.ts";
import { relayJob, startJob, type DispatchOutcome } from "./dispatch.ts";
import { localContainerRuntime } from "./local-runtime.ts";

export type { DispatchOutcome } from "./dispatch.ts";

/** Port the processor listens on inside the container. */
export const PROCESSOR_PORT = 8080;

/** Anything that answers the processor's HTTP API. */
export interface Processor {
  /** @param request a request whose path and query (e.g. `/jobs`) address the processor; the host is ignored */
  fetch(request: Request): Promise<Response>;
}

/**
 * The Durable Object that fronts one processor container (wrangler.toml `[[env.production.containers]]`;
 * locally the same class, its container runtime stood in by PROCESSOR_URL). It gets the storage endpoint,
 * credentials and buckets as the container's environment; it sleeps after 10 minutes without activity
 * (every relayed event line counts as activity, so a running job keeps it awake).
 *
 * {@link dispatch} starts a job and relays its events from inside the object, so a job may outlast a
 * queue consumer invocation (./dispatch.ts).
 */
export class ProcessorContainer extends Container<Env> {
  override defaultPort = PROCESSOR_PORT;
  override sleepAfter = "10m";
  override envVars = processorEnvVars(this.env);

  constructor(ctx: DurableObjectState<{}>, env: Env) {
    super(withLocalRuntime(ctx, env), env);
  }

  /**
   * Starts one attempt of a job on this instance's processor and relays its events to the kind's events
   * queue in the background (until its final event, or recovery of a lost relay).
   * @param kindName `JobKind.name` of the job (lifecycle/kinds.ts)
   * @param job the job message (validated by the consumer with the kind's schema)
   * @param requestId for the processor's logs (the queue message id)
   * @returns how the processor answered; `started` means the relay runs
   */
  async dispatch(kindName: string, job: unknown, requestId: string): Promise<DispatchOutcome> {
    const config = loadConfig(this.env);
    const kind = jobKindNamed(kindName);
    const ref = kind.jobRef(job);
    const log = createLogger({ instance: this.ctx.id.toString(), job: kind.name, id: ref.id, attempt: ref.attempt, requestId }, { minLevel: config.logLevel });
    const body = JSON.stringify(job);
    const headers = { "x-request-id": requestId, ...(await signJobRequest(config.processorSharedSecret, new TextEncoder().encode(body))) };
    const { result, stream } = await startJob((request) => this.portFetch(request), body, headers, config.processorIdleTimeoutSeconds);
    log.info("job dispatched", { outcome: result.outcome });
    if (stream) {
      const deps = createDeps(this.env, config, log);
      this.ctx.waitUntil(relayJob(deps, kind, ref, stream, () => this.renewActivityTimeout()));
    }
    return result;
  }

  /**
   * Requests from the Worker (`getProcessor`, e.g. `DELETE /jobs/{key}`) go to the container's port like
   * dispatch's own request: see {@link portFetch}.
   */
  override async fetch(request: Request): Promise<Response> {
    return this.portFetch(request);
  }

  /**
   * A request to the container's port whose response body the caller may cancel, or that may lose its
   * connection (an event stream, a processor restarting). `containerFetch` pipes every body through a
   * transform whose pipe promise then rejects with nobody to observe it, so this starts the container the
   * same way and fetches the port directly; the relay renews the activity timeout per event.
   * @throws Error when the container cannot be started or reached (callers treat it as unavailable)
   */
  private async portFetch(request: Request): Promise<Response> {
    const runtime = this.ctx.container;
    if (!runtime?.running || (await this.getState()).status !== "healthy") {
      await this.startAndWaitForPorts(PROCESSOR_PORT, { abort: request.signal });
    }
    this.renewActivityTimeout();
    return this.ctx.container!.getTcpPort(PROCESSOR_PORT).fetch(request.url.replace("https:", "http:"), request);
  }
}

/**
 * The object's state with the local container runtime when Cloudflare Containers are not there and
 * PROCESSOR_URL names a local processor; otherwise unchanged (the Container class then refuses to start
 * without a runtime, as it should in production).
 */
function withLocalRuntime(ctx: DurableObjectState<{}>, env: Env): DurableObjectState<{}> {
  if (ctx.container !== undefined || !env.PROCESSOR_URL) return ctx;
  // An own property shadowing the runtime's (absent) `container`: the state object itself must be passed
  // on, workerd refuses a wrapper of it.
  Object.defineProperty(ctx, "container", { value: localContainerRuntime(env.PROCESSOR_URL), configurable: true });
  return ctx;
}

/**
 * Environment of the processor process, from the Worker's validated config. The container is its own
 * entry point (the Durable Object runtime constructs it with the raw bindings), so it loads the config.
 */
function processorEnvVars(env: Env): Record<string, string> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch {
    return { HOST: "0.0.0.0", PORT: String(PROCESSOR_PORT) };
  }
  return {
    HOST: "0.0.0.0",
    PORT: String(PROCESSOR_PORT),
    S3_ENDPOINT: config.s3.endpoint,
    S3_REGION: config.s3.region,
    S3_ACCESS_KEY_ID: config.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
    PROCESSOR_SHARED_SECRET: config.processorSharedSecret,
    VIDEOS_BUCKET: config.videosBucket,
    IMAGES_BUCKET: config.imagesBucket,
    // The import's URL rules (runtime/outgoing-url.ts) depend on it; the container's own default is production.
    ENVIRONMENT: config.environment,
  };
}

/**
 * The Durable Object of the instance `routingKey` maps to: `processor-<i>`, i = hash(routingKey) mod
 * PROCESSOR_INSTANCES, so every delivery of a job reaches the same instance.
 * @throws Error without a PROCESSOR binding (the env check refuses this earlier)
 */
export function processorInstance(env: Env, routingKey: string): DurableObjectStub<ProcessorContainer> {
  if (!env.PROCESSOR) throw new Error("no processor configured: bind PROCESSOR (wrangler.toml)");
  const instances = loadConfig(env).processorInstances;
  return getContainer(env.PROCESSOR, `processor-${shard(routingKey, instances)}`) as unknown as DurableObjectStub<ProcessorContainer>;
}

/**
 * @param env Worker bindings (the PROCESSOR binding)
 * @param config validated config (PROCESSOR_SHARED_SECRET)
 * @param routingKey chooses the container instance (the job's id, as for dispatch)
 * @returns a processor whose `fetch` buffers and signs request bodies (e.g. `DELETE /jobs/{key}`: every
 *   non-GET request is signed, an empty body included)
 */
export function getProcessor(env: Env, config: Pick<Config, "processorSharedSecret">, routingKey = ""): Processor {
  const stub = processorInstance(env, routingKey);
  return {
    async fetch(request) {
      if (request.method === "GET" || request.method === "HEAD") {
        return stub.fetch(new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal }));
      }
      const body = new Uint8Array(await request.arrayBuffer());
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(await signJobRequest(config.processorSharedSecret, body))) headers.set(name, value);
      return stub.fetch(new Request(request.url, { method: request.method, headers, body, signal: request.signal }));
    },
  };
}

/** FNV-1a of `key`, modulo `n`: a stable instance index in 0..n-1. */
function shard(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}
