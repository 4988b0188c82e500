/**
 * Types shared by the HTTP app and the queue consumers: the Hono env ({@link AppEnv}) and the
 * dependencies handed to services ({@link Deps}).
 */
import type { RequestIdVariables } from "hono/request-id";
import { createDb, type Database } from "./db.ts";
import type { Config, Env } from "./env.ts";
import type { Logger } from "../../runtime/log.ts";
import { S3Storage } from "./storage/s3.ts";
import { withDuplicateDeliveries } from "./chaos/duplicate-deliveries.ts";

/** The signed-in user of a `/v1/*` request. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

/** What services need: database, storage, queues, config and a logger. */
export interface Deps {
  db: Database;
  storage: S3Storage;
  config: Config;
  env: Env;
  log: Logger;
}

/** Hono generics of the app: bindings and per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    log: Logger;
    deps: Deps;
    user: SessionUser;
    /** How `user` was authenticated on `/v1/*`: a better-auth session token or an API key (edge-api/src/auth.ts). */
    authMethod: "session" | "api-key";
  };
}

/** Builds the service dependencies for one request or queue batch. */
export function createDeps(env: Env, config: Config, log: Logger): Deps {
  // Chaos harness only (ENVIRONMENT=local, env.ts): queue producers that send every message twice.
  const queues = withDuplicateDeliveries(env, config.chaosDuplicateDeliveries);
  return { db: createDb(env.DB), storage: new S3Storage(config.s3), config, env: queues, log };
}
