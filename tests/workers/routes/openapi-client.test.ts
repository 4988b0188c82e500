/**
 * The typed client: the committed copy of the OpenAPI document (client/openapi.json), from which
 * client/src/openapi.d.ts is generated, must equal what the Worker serves at `/openapi.json`. A route,
 * schema or description changed without `npm run client:generate` fails here.
 * (tests/cli/client-generated.test.ts checks the other half: the .d.ts matches client/openapi.json.)
 */
import { describe, expect, it } from "vitest";
import committed from "../../../client/openapi.json";
import { api } from "../support/env.ts";

describe("client/openapi.json", () => {
  it("deep-equals the served /openapi.json (else: run npm run client:generate)", async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    const served = (await res.json()) as Record<string, unknown>;
    // Compare the path list first: the most common drift, and a short readable diff.
    expect(Object.keys((committed as { paths: object }).paths).sort(), "paths differ: run npm run client:generate").toEqual(
      Object.keys(served.paths as object).sort(),
    );
    expect(committed, "client/openapi.json is stale: run npm run client:generate").toEqual(served);
  });

  it("describes the video routes the CLI uses", () => {
    const paths = (committed as { paths: Record<string, Record<string, unknown>> }).paths;
    for (const [path, method] of [
      ["/v1/videos", "post"],
      ["/v1/videos", "get"],
      ["/v1/videos/{id}", "get"],
      ["/v1/videos/{id}", "delete"],
      ["/v1/videos/{id}/complete", "post"],
      ["/v1/videos/{id}/retry", "post"],
      ["/v1/videos/{id}/images", "get"],
      ["/v1/videos/{id}/images.zip", "get"],
    ] as const) {
      expect(paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
  });
});
