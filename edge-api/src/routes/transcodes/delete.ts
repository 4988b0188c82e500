/** `DELETE /v1/videos/{id}/transcodes/{tid}`: delete a transcode and its outputs. */
import { createRoute } from "@hono/zod-openapi";
import { TranscodeIdParams } from "../../../../schema/api.ts";
import { deleteTranscode } from "../../lifecycle/delete-transcode.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const deleteTranscodeRoute = createRoute({
  method: "delete",
  path: "/v1/videos/{id}/transcodes/{tid}",
  operationId: "deleteTranscode",
  tags: ["transcodes"],
  summary: "Delete a transcode",
  description:
    "Removes the record and every output of every attempt. Allowed in any status: a transcode still running is stopped in the processor, and whatever it reports later is discarded. Deleting again answers 404.",
  security: BEARER,
  request: { params: TranscodeIdParams },
  responses: {
    204: { description: "Deleted." },
    ...problems(401, 403, 404),
  },
});

export function registerDeleteTranscode(app: App) {
  app.openapi(deleteTranscodeRoute, async (c) => {
    const { id, tid } = c.req.valid("param");
    await deleteTranscode(c.var.deps, c.var.user.id, id, tid);
    return c.body(null, 204);
  });
}
