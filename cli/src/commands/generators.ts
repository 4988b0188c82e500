/**
 * `vidsnap generators add <name> <url> | ls | rm <id>…`: the user's generators (`/v1/generators`,
 * docs/generators.md). `add` prints the signing secret, shown only once.
 */
import { unwrap, type Generator } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, usageError } from "../context.ts";

export const generatorsCommand: Command = {
  name: "generators",
  summary: "register, list or delete generators (add <name> <url> | ls | rm <id>…)",
  help: `Usage: vidsnap generators add <name> <url>
       vidsnap generators ls
       vidsnap generators rm <id> [<id>…]

add  registers a generator: vidsnap POSTs signed generation requests to <url> (https; the rules of webhook
     URLs). Prints its id and its signing secret (whsec_…), shown only this once: give it to the generator.
ls   lists your generators (id, name, URL).
rm   deletes generators (exit 4 when one does not exist).
With --json: {"generator", "secret"}, {"data": [generator]}, {"deleted": [id…]}.`,
  options: {},
  positionals: { min: 1, max: 101, names: "add <name> <url> | ls | rm <id>…" },
  async run(ctx, _values, [action, ...args]) {
    const api = apiClient(ctx);
    switch (action) {
      case "add": {
        const [name, url] = args;
        if (!name || !url || args.length !== 2) throw usageError("usage: vidsnap generators add <name> <url>");
        const created = unwrap(await api.POST("/v1/generators", { body: { name, url } }));
        if (ctx.json) printJson(ctx, created);
        else say(ctx, `generator ${created.generator.id} (${created.generator.name})\nsecret    ${created.secret}  (shown only now)`);
        return EXIT.ok;
      }
      case "ls": {
        if (args.length > 0) throw usageError("usage: vidsnap generators ls");
        const list = unwrap(await api.GET("/v1/generators", {}));
        if (ctx.json) printJson(ctx, list);
        else say(ctx, list.data.length === 0 ? "no generators" : list.data.map((g: Generator) => `${g.id}  ${g.name}  ${g.url}`).join("\n"));
        return EXIT.ok;
      }
      case "rm": {
        if (args.length === 0) throw usageError("usage: vidsnap generators rm <id> [<id>…]");
        const deleted: string[] = [];
        for (const id of args) {
          unwrap(await api.DELETE("/v1/generators/{id}", { params: { path: { id } } }));
          deleted.push(id);
          say(ctx, `deleted ${id}`);
        }
        if (ctx.json) printJson(ctx, { deleted });
        return EXIT.ok;
      }
      default:
        throw usageError(`unknown action "${action}": add, ls or rm`);
    }
  },
};
