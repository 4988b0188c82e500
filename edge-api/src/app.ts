/**
 * The HTTP app (Hono + @hono/zod-openapi):
 * - request id (`x-request-id` in and out), env check (fail closed: 500 `server-misconfigured`),
 *   security headers on every response (./security-headers.ts), structured access log, CORS for PUBLIC_BASE_URL + TRUSTED_ORIGINS only
 *   (the HLS playlist routes: any origin, GET, no credentials),
 *   request bodies of `/v1/*` and `/api/auth/*` up to 64 KiB, `POST /v1/generations` up to 80 KiB (./body-limit.ts, 413 `payload-too-large`);
 * - `/api/auth/*` → better-auth, its refusals re-emitted as problem+json keeping its `code` (./auth-problems.ts);
 *   `/v1/*` → bearer-authenticated REST routes (./routes/<resource>/, one file per route), cookie-authenticated
 *   mutations from trusted origins only (./cross-site.ts); the HLS playlist routes of transcodes are
 *   authenticated by a URL token instead (./signed-url.ts, docs/architecture.md "Playback tokens"), and so
 *   are image routes (`thumbnail.*`, `animated.*`, `storyboard.*`) that carry a signed `token` ("Images on demand");
 * - `/openapi.json` (OpenAPI 3.1), `/docs` (its reference page, rendered by Scalar from the Worker's assets), `/healthz`;
 * - `ETag` (SHA-256 of the JSON body, hex) and `If-None-Match` → 304 on `GET /v1/videos` and `GET /v1/videos/{id}`
 *   (hono/etag, after authentication, so another user's id is still 404);
 * - one error path: {@link ProblemError} (and validation failures, through `defaultHook`) rendered by
 *   `app.onError` as `application/problem+json`; anything else is logged and answered 500 `internal`
 *   without details.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { asApiClientRequest, getAuth, MIN_PASSWORD_LENGTH, requireUser } from "./auth.ts";
import { asAuthProblem } from "./auth-problems.ts";
import { createDeps, type AppEnv } from "./context.ts";
import { isTrustedOrigin } from "./cross-site.ts";
import { ConfigError, loadConfig, type Config } from "./env.ts";
import { fieldIssues, problemResponse, ProblemError, type ProblemKind } from "./errors.ts";
import { createLogger, errorFields } from "../../runtime/log.ts";
import { accountRateLimit, authRateLimit, videoCreationRateLimit, webhookRateLimit } from "./rate-limit.ts";
import { generationBodyLimit, requestBodyLimit } from "./body-limit.ts";
import { registerCreateApiKey } from "./routes/api-keys/create.ts";
import { registerDeleteApiKey } from "./routes/api-keys/delete.ts";
import { registerListApiKeys } from "./routes/api-keys/list.ts";
import { registerCompleteUpload } from "./routes/videos/complete-upload.ts";
import { registerCreateVideo } from "./routes/videos/create.ts";
import { registerDeleteVideo } from "./routes/videos/delete.ts";
import { registerDocs } from "./routes/meta/docs.ts";
import { registerDownloadArchive } from "./routes/videos/download-archive.ts";
import { registerGetVideo } from "./routes/videos/get.ts";
import { registerHealth } from "./routes/meta/health.ts";
import { registerListImages } from "./routes/videos/list-images.ts";
import { registerListVideos } from "./routes/videos/list.ts";
import { registerListVideoEvents } from "./routes/videos/list-events.ts";
import { registerListUploadParts } from "./routes/videos/list-upload-parts.ts";
import { registerPresignUploadParts } from "./routes/videos/presign-upload-parts.ts";
import { registerRetryVideo } from "./routes/videos/retry.ts";
import { registerCreateTranscode } from "./routes/transcodes/create.ts";
import { registerDeleteTranscode } from "./routes/transcodes/delete.ts";
import { registerGetTranscode } from "./routes/transcodes/get.ts";
import { registerListTranscodes } from "./routes/transcodes/list.ts";
import { registerGetMasterPlaylist } from "./routes/transcodes/master-playlist.ts";
import { isPlaylistPath } from "./routes/transcodes/playlist-shared.ts";
import { registerRetryTranscode } from "./routes/transcodes/retry.ts";
import { registerGetVariantPlaylist } from "./routes/transcodes/variant-playlist.ts";
import { registerCreateWebhook } from "./routes/webhooks/create.ts";
import { registerDeleteWebhook } from "./routes/webhooks/delete.ts";
import { registerGetStats } from "./routes/stats/get.ts";
import { registerGetWebhook } from "./routes/webhooks/get.ts";
import { registerListWebhookDeliveries } from "./routes/webhooks/list-deliveries.ts";
import { registerListWebhooks } from "./routes/webhooks/list.ts";
import { registerRotateWebhookSecret } from "./routes/webhooks/rotate-secret.ts";
import { registerTestWebhook } from "./routes/webhooks/test.ts";
import { registerAnimated } from "./routes/images/animated.ts";
import { registerCreateImageUrls } from "./routes/images/image-urls.ts";
import { isSignedImageRequest } from "./routes/images/shared.ts";
import { registerStoryboard } from "./routes/images/storyboard.ts";
import { registerThumbnail } from "./routes/images/thumbnail.ts";
import { securityHeaders } from "./security-headers.ts";
import { registerGenerationCallback, isGenerationCallbackPath } from "./routes/generations/callback.ts";
import { registerCreateGeneration } from "./routes/generations/create.ts";
import { registerCreateGenerator } from "./routes/generators/create.ts";
import { registerDeleteGenerator } from "./routes/generators/delete.ts";
import { registerGetGenerator } from "./routes/generators/get.ts";
import { registerListGenerators } from "./routes/generators/list.ts";
import { registerRotateGeneratorSecret } from "./routes/generators/rotate-secret.ts";

/** Problem kinds of Hono's own HTTPExceptions (malformed JSON → 400, wrong body type → 415). */
const HTTP_EXCEPTION_KINDS: Partial<Record<number, ProblemKind>> = {
  400: "validation",
  401: "unauthorized",
  404: "not-found",
  415: "unsupported-media-type",
};

/** Builds the app; stateless, so one instance per isolate is enough. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    // Every zod-openapi validation failure (body, query, params) becomes a 400 `validation` problem.
    defaultHook: (result) => {
      if (!result.success) {
        throw new ProblemError("validation", `The request ${result.target} is invalid.`, {
          errors: fieldIssues(result.error.issues),
        });
      }
    },
  });

  app.use("*", securityHeaders);
  app.use("*", requestId({ headerName: "x-request-id", limitLength: 128 }));

  // Env check, logger, service dependencies, access log.
  app.use("*", async (c, next) => {
    let config: Config;
    try {
      config = loadConfig(c.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      createLogger({ requestId: c.var.requestId }).error("server misconfigured", { problems: err.problems });
      return problemResponse("server-misconfigured", "The server is misconfigured; the operators have been told.", c.var.requestId);
    }
    const log = createLogger({ requestId: c.var.requestId }, { minLevel: config.logLevel });
    c.set("config", config);
    c.set("log", log);
    c.set("deps", createDeps(c.env, config, log));
    const started = Date.now();
    await next();
    c.var.log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Date.now() - started,
    });
  });

  const apiCors = cors({
    origin: (origin, c) => (isTrustedOrigin(c.get("config") as Config, origin) ? origin : null),
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowHeaders: ["authorization", "content-type", "x-request-id", "x-api-key"],
    exposeHeaders: ["set-auth-token", "x-request-id", "location", "retry-after"],
    credentials: true,
    maxAge: 600,
  });
  // HLS playlists authenticate by their URL token: any page may play them (hls.js), never with credentials.
  const playlistCors = cors({ origin: "*", allowMethods: ["GET", "OPTIONS"], credentials: false, maxAge: 600 });
  // Signed image URLs likewise (players fetch thumbnail tracks with CORS).
  app.use("*", (c, next) => (isPlaylistPath(c.req.path) || isSignedImageRequest(c.req.path, c.req.url) ? playlistCors(c, next) : apiCors(c, next)));

  // A generation's `input` alone may take 64 KB: its route gets a little more, so the schema answers 400 beyond.
  app.use("/v1/*", (c, next) => (c.req.path === "/v1/generations" ? generationBodyLimit(c, next) : requestBodyLimit(c, next)));
  app.use("/api/auth/*", requestBodyLimit);

  // Rate limits (./rate-limit.ts): auth POSTs per route and client IP, then sign-in and verification emails
  // per target address, before better-auth runs.
  app.use("/api/auth/*", authRateLimit);
  app.use("/api/auth/*", accountRateLimit);
  app.on(["GET", "POST"], "/api/auth/*", async (c) =>
    asAuthProblem(c, await getAuth(c.env, c.var.config).handler(asApiClientRequest(c.req.raw))),
  );

  // The playlist routes are authenticated by their `token` query parameter instead (routes/transcodes/playlist-shared.ts),
  // image URLs carrying a signed `token` likewise (services/images/serve-image.ts checks it), and a generator's
  // callback by its generation's callback token (routes/generations/callback.ts).
  app.use("/v1/*", (c, next) =>
    isPlaylistPath(c.req.path) || isSignedImageRequest(c.req.path, c.req.url) || isGenerationCallbackPath(c.req.path) ? next() : requireUser(c, next),
  );
  app.use("/v1/*", async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.header("cache-control", "private, no-store");
  });
  const videoEtag = etag({ generateDigest: (body) => crypto.subtle.digest("SHA-256", body) });
  app.use("/v1/videos", videoEtag);
  app.use("/v1/videos/:id", videoEtag);
  // Video creation per user (after requireUser, so an API key and a session of one user share the budget).
  app.use("/v1/videos", videoCreationRateLimit);
  app.use("/v1/generations", videoCreationRateLimit);
  // Webhook actions per user: a test ping POSTs to a URL the caller chose (docs/webhooks.md, "Limits").
  app.use("/v1/webhooks", webhookRateLimit("webhook creation"));
  app.use("/v1/webhooks/:id/test", webhookRateLimit("webhook test"));
  app.use("/v1/webhooks/:id/rotate-secret", webhookRateLimit("webhook secret rotation"));
  app.use("/v1/generators", webhookRateLimit("generator creation"));
  app.use("/v1/generators/:id/rotate-secret", webhookRateLimit("generator secret rotation"));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: `Session token from \`POST /api/auth/sign-up/email\` or \`/api/auth/sign-in/email\` (header \`set-auth-token\`); passwords need ${MIN_PASSWORD_LENGTH}+ characters. An API key (\`vsk_…\`, from \`POST /v1/api-keys\`) works too, here or as \`x-api-key\`.`,
  });
  registerHealth(app);
  registerCreateVideo(app);
  registerListVideos(app);
  registerGetVideo(app);
  registerPresignUploadParts(app);
  registerListUploadParts(app);
  registerCompleteUpload(app);
  registerRetryVideo(app);
  registerDeleteVideo(app);
  registerListImages(app);
  registerDownloadArchive(app);
  registerListVideoEvents(app);
  registerCreateWebhook(app);
  registerListWebhooks(app);
  registerGetWebhook(app);
  registerDeleteWebhook(app);
  registerListWebhookDeliveries(app);
  registerTestWebhook(app);
  registerRotateWebhookSecret(app);
  registerCreateGenerator(app);
  registerListGenerators(app);
  registerGetGenerator(app);
  registerDeleteGenerator(app);
  registerRotateGeneratorSecret(app);
  registerCreateGeneration(app);
  registerGenerationCallback(app);
  registerCreateTranscode(app);
  registerListTranscodes(app);
  registerGetTranscode(app);
  registerRetryTranscode(app);
  registerDeleteTranscode(app);
  registerGetMasterPlaylist(app);
  registerGetVariantPlaylist(app);
  registerThumbnail(app);
  registerAnimated(app);
  registerStoryboard(app);
  registerCreateImageUrls(app);
  registerGetStats(app);
  registerCreateApiKey(app);
  registerListApiKeys(app);
  registerDeleteApiKey(app);

  const documentConfig = (c: Context<AppEnv>) => ({
    openapi: "3.1.0",
    info: {
      title: "vidsnap API",
      version: "1.0.0",
      description:
        "Upload a video, get a ZIP of still images and transcoded renditions (MP4, WebM, HLS). Errors are RFC 9457 problem details (`application/problem+json`). HLS playlists are opened by a short-lived playback token in their URL (HMAC-SHA256 over video, transcode, attempt and expiry), not by a bearer token, so stock players can play them.",
      // The project's licence (LICENSE, package.json `license`).
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: c.var.config.publicBaseUrl }],
  });
  app.doc31("/openapi.json", documentConfig);
  registerDocs(app);

  app.notFound((c) => problemResponse("not-found", `No route ${c.req.method} ${c.req.path}.`, c.var.requestId));

  app.onError((err, c) => {
    const requestId = c.var.requestId ?? crypto.randomUUID();
    const log = c.var.log ?? createLogger({ requestId });
    if (err instanceof ProblemError) {
      if (err.status >= 500) log.error("request failed", { kind: err.kind, status: err.status, ...errorFields(err.cause ?? err) });
      else log.debug("request refused", { kind: err.kind, status: err.status });
      return problemResponse(err.kind, err.detail, requestId, { status: err.status, errors: err.errors, headers: err.headers });
    }
    if (err instanceof HTTPException && err.status < 500) {
      const kind = HTTP_EXCEPTION_KINDS[err.status] ?? "bad-request";
      const detail = kind === "unsupported-media-type" ? "Send the request body as application/json." : err.message || "The request is invalid.";
      return problemResponse(kind, detail, requestId, {
        status: err.status as ContentfulStatusCode,
      });
    }
    log.error("unhandled error", errorFields(err));
    return problemResponse("internal", "An unexpected error occurred; quote the request id when reporting it.", requestId);
  });

  return app;
}
