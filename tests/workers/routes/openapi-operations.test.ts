/**
 * What SDK generators and linters need from the served `/openapi.json` (redocly.yaml lints the committed
 * copy in CI: `npm run lint:openapi`): every operation has a unique camelCase `operationId` (generated
 * clients name their functions after it) and an explicit `security` (`[]` only on the public routes),
 * the licence is the project's, and the ZIP download's redirect is described with its `Location` header.
 */
import { describe, expect, it } from "vitest";
import pkg from "../../../package.json";
import { api } from "../support/env.ts";

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { headers?: Record<string, { required?: boolean; schema?: { format?: string } }> }>;
}
interface OpenApiDoc {
  info: { license?: { name: string; identifier?: string } };
  paths: Record<string, Record<string, Operation>>;
}

/** Operations that take no credentials (`security: []`). */
// The HLS playlists are opened by the playback token in their URL, not a bearer token (docs/architecture.md "Playback tokens");
// a generator's callback by its generation's callback token (docs/generators.md).
const PUBLIC_OPERATIONS = ["getHealth", "getTranscodeMasterPlaylist", "getTranscodeVariantPlaylist", "generationCallback"];
/**
 * Operations open with a bearer token OR a signed `token` query parameter (`[{bearerAuth: []}, {}]`): the
 * images on demand, for `<img src>` (docs/architecture.md "Images on demand").
 */
const BEARER_OR_SIGNED_URL_OPERATIONS = [
  "getThumbnailJpg",
  "getThumbnailPng",
  "getThumbnailWebp",
  "getAnimatedGif",
  "getAnimatedWebp",
  "getStoryboardJpg",
  "getStoryboardWebp",
  "getStoryboardVtt",
  "getStoryboardJson",
];

const served = async () => (await (await api("/openapi.json")).json()) as OpenApiDoc;

function operations(doc: OpenApiDoc) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, op })),
  );
}

describe("the OpenAPI document's operations", () => {
  it("each has a unique camelCase operationId", async () => {
    const ops = operations(await served());
    expect(ops.length).toBeGreaterThanOrEqual(20);
    const bad = ops.filter(({ op }) => !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId ?? "")).map((o) => `${o.where}: ${o.op.operationId}`);
    expect(bad, "operationId missing or not camelCase").toEqual([]);
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), "duplicate operationIds").toEqual([]);
    // The names the README and generated SDKs use.
    expect(ids).toEqual(expect.arrayContaining(["createVideo", "listVideos", "getVideo", "completeVideoUpload", "downloadVideoArchive", "getHealth"]));
  });

  it("each declares security: bearer on every /v1 operation, [] only on the public ones", async () => {
    for (const { where, op } of operations(await served())) {
      expect(op.security, `${where} has no security field`).toBeDefined();
      if (PUBLIC_OPERATIONS.includes(op.operationId!)) expect(op.security, where).toEqual([]);
      else if (BEARER_OR_SIGNED_URL_OPERATIONS.includes(op.operationId!)) expect(op.security, where).toEqual([{ bearerAuth: [] }, {}]);
      else expect(op.security, where).toEqual([{ bearerAuth: [] }]);
    }
  });

  it("the ZIP download is a 302 with a required Location URI", async () => {
    const op = (await served()).paths["/v1/videos/{id}/images.zip"]!.get!;
    expect(Object.keys(op.responses).filter((s) => s.startsWith("2") || s.startsWith("3"))).toEqual(["302"]);
    const location = op.responses["302"]!.headers?.Location;
    expect(location?.required).toBe(true);
    expect(location?.schema?.format).toBe("uri");
  });

  it("info.license is the project's licence (package.json)", async () => {
    const { info } = await served();
    expect(info.license?.identifier).toBe(pkg.license);
  });
});
