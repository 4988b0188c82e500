/** `DELETE /v1/api-keys/{id}`: revoke an API key. */
import { createRoute } from "@hono/zod-openapi";
import { ApiKeyIdParams } from "../../../../schema/api-keys.ts";
import { requireSession } from "../../auth.ts";
import { deleteApiKey } from "../../services/api-keys/delete-api-key.ts";
import { BEARER, problems, type App } from "../shared.ts";

const notFound = problems(404)[404];

export const deleteApiKeyRoute = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  operationId: "deleteApiKey",
  tags: ["api-keys"],
  summary: "Revoke an API key",
  description: "Deletes the key: requests with it get 401 from now on. Another user's key id answers 404. Needs a session token (403 with an API key).",
  security: BEARER,
  request: { params: ApiKeyIdParams },
  responses: {
    204: { description: "Revoked." },
    ...problems(401, 403),
    404: { ...notFound, description: "No such API key for this user (`not-found`)." },
  },
});

export function registerDeleteApiKey(app: App) {
  app.openapi(deleteApiKeyRoute, async (c) => {
    requireSession(c);
    await deleteApiKey(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
