/**
 * `vidsnap rm <id>…`: deletes videos with their uploaded file and archives (`DELETE /v1/videos/{id}`;
 * allowed in any status). Stops at the first failure (404 → exit 4).
 */
import { unwrap } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, type CliContext } from "../context.ts";

/** @throws VidsnapApiError (404), network errors */
export async function removeVideo(ctx: CliContext, id: string): Promise<void> {
  unwrap(await apiClient(ctx).DELETE("/v1/videos/{id}", { params: { path: { id } } }));
}

export const rmCommand: Command = {
  name: "rm",
  summary: "delete videos, their uploads and archives",
  help: `Usage: vidsnap rm <id> [<id>…]

Deletes each video, its uploaded file and every archive made from it. Works in any status (a running
extraction is discarded). Exit code 4 when a video does not exist.
With --json prints {"deleted": [id…]}.`,
  options: {},
  positionals: { min: 1, max: 100, names: "<id>…" },
  async run(ctx, _values, ids) {
    const deleted: string[] = [];
    for (const id of ids) {
      await removeVideo(ctx, id);
      deleted.push(id);
      say(ctx, `deleted ${id}`);
    }
    if (ctx.json) printJson(ctx, { deleted });
    return EXIT.ok;
  },
};
