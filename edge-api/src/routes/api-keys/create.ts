/** `POST /v1/api-keys`: create an API key for server-to-server clients; the key is answered this once. */
import { createRoute } from "@hono/zod-openapi";
import { CreateApiKeyRequest, CreatedApiKey } from "../../../../schema/api-keys.ts";
import { getAuth, requireSession } from "../../auth.ts";
import { createApiKey } from "../../services/api-keys/create-api-key.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createApiKeyRoute = createRoute({
  method: "post",
  path: "/v1/api-keys",
  operationId: "createApiKey",
  tags: ["api-keys"],
  summary: "Create an API key",
  description:
    "Creates a key (`vsk_…`) that authenticates `/v1` requests as `Authorization: Bearer <key>` or `x-api-key: <key>`. The key is in this answer only: vidsnap stores its SHA-256. Needs a session token: an API key cannot create keys (403).",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKeyRequest } } } },
  responses: {
    201: { description: "Created; store `key` now.", content: { "application/json": { schema: CreatedApiKey } } },
    ...problems(400, 401, 403),
  },
});

export function registerCreateApiKey(app: App) {
  app.openapi(createApiKeyRoute, async (c) => {
    requireSession(c);
    const created = await createApiKey(c.var.deps, getAuth(c.env, c.var.config), c.var.user.id, c.req.valid("json"));
    return c.json(created, 201);
  });
}
