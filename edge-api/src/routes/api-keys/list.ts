/** `GET /v1/api-keys`: the signed-in user's API keys, without secrets. */
import { createRoute } from "@hono/zod-openapi";
import { ApiKeyList } from "../../../../schema/api-keys.ts";
import { requireSession } from "../../auth.ts";
import { listApiKeys } from "../../services/api-keys/list-api-keys.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listApiKeysRoute = createRoute({
  method: "get",
  path: "/v1/api-keys",
  operationId: "listApiKeys",
  tags: ["api-keys"],
  summary: "List API keys",
  description: "The user's keys, newest first: id, name, first characters, creation, expiry and last use. Never the key. Needs a session token (403 with an API key).",
  security: BEARER,
  responses: {
    200: { description: "The keys.", content: { "application/json": { schema: ApiKeyList } } },
    ...problems(401, 403),
  },
});

export function registerListApiKeys(app: App) {
  app.openapi(listApiKeysRoute, async (c) => {
    requireSession(c);
    return c.json(await listApiKeys(c.var.deps, c.var.user.id), 200);
  });
}
