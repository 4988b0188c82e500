/**
 * Request and response bodies of the API-key routes (`/v1/api-keys`), shared by the edge-api Worker (route
 * validation, `/openapi.json`) and REST clients. Kept apart from ./api.ts (same conventions: ISO 8601 UTC
 * times, OpenAPI component names via `.openapi("Name")`).
 *
 * A key is `vsk_` + 64 letters; only its SHA-256 is stored, so the key itself appears in exactly one answer:
 * `POST /v1/api-keys` ({@link CreatedApiKey}). Listing shows `start` (its first 10 characters) instead.
 */
import { z } from "@hono/zod-openapi";

/** Prefix of every vidsnap API key ("vidsnap secret key"): lets secret scanners and the auth guard recognise one. */
export const API_KEY_PREFIX = "vsk_";
/** Bounds of `expiresInDays` (the api-key plugin's defaults: 1 to 365 days). */
export const API_KEY_MIN_DAYS = 1;
export const API_KEY_MAX_DAYS = 365;

const IsoTime = z.string().describe("ISO 8601 time (UTC).");

/** `POST /v1/api-keys` body. */
export const CreateApiKeyRequest = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain control characters")
      .describe("Label to recognise the key by (1 to 32 characters).")
      .openapi({ example: "nightly-backup" }),
    expiresInDays: z
      .number()
      .int()
      .min(API_KEY_MIN_DAYS)
      .max(API_KEY_MAX_DAYS)
      .optional()
      .describe(`Lifetime in days (${API_KEY_MIN_DAYS} to ${API_KEY_MAX_DAYS}); omitted = the key never expires.`)
      .openapi({ example: 90 }),
  })
  .openapi("CreateApiKeyRequest");
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

/** One API key as listed: never the key or its hash. */
export const ApiKey = z
  .object({
    id: z.string().describe("Key id (for `DELETE /v1/api-keys/{id}`)."),
    name: z.string().nullable(),
    start: z.string().nullable().describe("First characters of the key, prefix included (e.g. `vsk_AbCdEf`)."),
    prefix: z.string().nullable().describe("`vsk_`."),
    createdAt: IsoTime,
    expiresAt: IsoTime.nullable().describe("Refused after this time; null = never expires."),
    lastUsedAt: IsoTime.nullable().describe("Last request authenticated with the key, null = never used."),
  })
  .openapi("ApiKey");
export type ApiKey = z.infer<typeof ApiKey>;

/** Answer of `POST /v1/api-keys`: the key itself, shown this once. */
export const CreatedApiKey = z
  .object({
    apiKey: ApiKey,
    key: z
      .string()
      .describe("The secret key: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`. Shown only in this answer.")
      .openapi({ example: `${API_KEY_PREFIX}${"x".repeat(64)}` }),
  })
  .openapi("CreatedApiKey");
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

/** Answer of `GET /v1/api-keys`, newest first. */
export const ApiKeyList = z.object({ data: z.array(ApiKey) }).openapi("ApiKeyList");
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** Path parameter `{id}` of `DELETE /v1/api-keys/{id}`. */
export const ApiKeyIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, example: "hQ1x2Yb3Zc4Wd5Ve6Uf7Tg8Sh9Ri0Qj1" }),
});
