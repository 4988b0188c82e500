/**
 * The processor seam: the one place that knows how the Worker reaches the ffmpeg processor
 * (docs/architecture.md, "Processor HTTP API").
 *
 * - PROCESSOR_URL set (local stack, tests): plain `fetch` to that base URL (the Node process).
 * - Otherwise (production): the Cloudflare Containers binding `PROCESSOR`, a Durable Object namespace of
 *   {@link ProcessorContainer}. Jobs are spread over {@link PROCESSOR_INSTANCES} named instances by a hash
 *   of the routing key (the video id), so a redelivered job reaches the instance that may still be running
 *   it and gets its 409.
 *
 * Every request with a body is signed with PROCESSOR_SHARED_SECRET here (runtime/job-signature.ts): the
 * processor refuses unsigned jobs with 401.
 */
import { Container, getContainer } from "@cloudflare/containers";
import { signJobRequest } from "../../../runtime/job-signature.ts";
import { loadConfig, type Config, type Env } from "../env.ts";

/** Number of named container instances jobs are spread over; matches `max_instances` in wrangler.toml. */
export const PROCESSOR_INSTANCES = 5;
/** Port the processor listens on inside the container. */
export const PROCESSOR_PORT = 8080;

/** Anything that answers the processor's HTTP API. */
export interface Processor {
  /** @param request a request whose path and query (e.g. `/jobs`) address the processor; the host is ignored */
  fetch(request: Request): Promise<Response>;
}

/**
 * The ffmpeg-container image run by Cloudflare Containers (wrangler.toml `[[env.production.containers]]`).
 * It gets the storage endpoint, credentials and buckets as environment variables; it sleeps after
 * 10 minutes without requests (a running job keeps its request open, so it is not put to sleep).
 */
export class ProcessorContainer extends Container<Env> {
  override defaultPort = PROCESSOR_PORT;
  override sleepAfter = "10m";
  override envVars = processorEnvVars(this.env);
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
  };
}

/**
 * @param env Worker bindings (the PROCESSOR binding)
 * @param config validated config (PROCESSOR_URL, PROCESSOR_SHARED_SECRET)
 * @param routingKey chooses the container instance (use the video id); ignored with PROCESSOR_URL
 * @returns a processor whose `fetch` buffers and signs request bodies (job bodies are small JSON; the
 *   processor also gets a content-length)
 * @throws Error when neither PROCESSOR_URL nor PROCESSOR is configured (the env check refuses this earlier)
 */
export function getProcessor(
  env: Env,
  config: Pick<Config, "processorUrl" | "processorSharedSecret">,
  routingKey = "",
): Processor {
  const base = config.processorUrl;
  let send: (url: string, init: RequestInit) => Promise<Response>;
  if (base) {
    send = (url, init) => {
      const u = new URL(url);
      return fetch(base + u.pathname + u.search, init);
    };
  } else {
    if (!env.PROCESSOR) throw new Error("no processor configured: set PROCESSOR_URL or bind PROCESSOR");
    const stub = getContainer(env.PROCESSOR, `processor-${shard(routingKey, PROCESSOR_INSTANCES)}`);
    send = (url, init) => stub.fetch(new Request(url, init));
  }
  return {
    async fetch(request) {
      if (request.method === "GET" || request.method === "HEAD") {
        return send(request.url, { method: request.method, headers: request.headers, signal: request.signal });
      }
      const body = new Uint8Array(await request.arrayBuffer());
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(await signJobRequest(config.processorSharedSecret, body))) headers.set(name, value);
      return send(request.url, { method: request.method, headers, body, signal: request.signal });
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
