/**
 * client/src/openapi.d.ts must be exactly what openapi-typescript generates from
 * the committed client/openapi.json (client/codegen.ts, the same code `npm run client:generate` runs).
 * tests/workers/routes/openapi-client.test.ts checks that client/openapi.json equals the served document.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatSpec, generateTypes } from "../../client/codegen.ts";
import { REPO_ROOT } from "../../tools/paths.ts";

const specText = readFileSync(path.join(REPO_ROOT, "client/openapi.json"), "utf8");
const spec = JSON.parse(specText) as { paths: Record<string, unknown> };

describe("generated client types", () => {
  it("client/src/openapi.d.ts equals a fresh generation from client/openapi.json (else: run npm run client:generate)", async () => {
    const fresh = await generateTypes(spec);
    const committed = readFileSync(path.join(REPO_ROOT, "client/src/openapi.d.ts"), "utf8");
    expect(committed === fresh, "client/src/openapi.d.ts is stale or edited by hand: run npm run client:generate").toBe(true);
  });

  it("client/openapi.json is in the canonical format the generator writes", () => {
    expect(specText).toBe(formatSpec(spec));
  });

  it("a changed document changes the generated types (the check can fail)", async () => {
    const changed = structuredClone(spec);
    changed.paths["/v1/extra"] = { get: { responses: { "200": { description: "ok" } } } };
    const fresh = await generateTypes(changed);
    expect(fresh).toContain('"/v1/extra"');
    expect(fresh).not.toBe(readFileSync(path.join(REPO_ROOT, "client/src/openapi.d.ts"), "utf8"));
  });
});
