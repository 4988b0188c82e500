/**
 * The authorisation matrix as data: every `/v1` route of the OpenAPI document × every kind of
 * credential, with the expected status. tests/workers/routes/authz-matrix.test.ts runs it, records each case for
 * `npm run audit:security` (tools/audit/record.ts) and keeps the rows in {@link matrixResults}
 * ({@link formatMatrix} prints them).
 *
 * Routes the document marks public (`security: []`) are not in the matrix: under `/v1` those are only the
 * HLS playlist routes, authenticated by their URL token (tests/workers/routes/transcodes.test.ts), and a
 * generator's callback, authenticated by its generation's callback token (tests/workers/routes/generations.test.ts);
 * {@link TOKEN_AUTHENTICATED_ROUTES} pins that list.
 *
 * Adding a route: give it an owner expectation in {@link OWNER_EXPECTATIONS}; a route with a path parameter
 * needs its collection in {@link PARAM_FIXTURES} (and a fixture maker in the test), a POST route with a
 * required body an entry in {@link REQUEST_BODIES}. A route of `/openapi.json` missing here makes the matrix
 * test fail with the route named, never skip it.
 */

/** Kinds of credentials tried on every route. */
export const CREDENTIALS = [
  "none",
  "malformed",
  "expired-session",
  "signed-out",
  "revoked-api-key",
  "expired-api-key",
  "other-user",
  "other-user-api-key",
  "owner",
  "owner-api-key",
] as const;
export type Credential = (typeof CREDENTIALS)[number];

/** `METHOD /path` as in the OpenAPI document (`{id}` parameters). */
export type RouteKey = `${"GET" | "POST" | "DELETE" | "PUT" | "PATCH"} /v1${string}`;

/**
 * What the owner, signed in with a session, gets from each route (the other credentials follow from it:
 * see {@link expectedStatus}). Video routes run on a video whose extraction succeeded (so the multipart
 * routes answer 409: it was a single-PUT upload, past its upload) and DELETE on a fresh one; webhook and
 * API-key routes on the owner's endpoint / key (DELETE on a fresh one).
 */
export const OWNER_EXPECTATIONS: Record<RouteKey, number> = {
  "GET /v1/videos": 200,
  "POST /v1/videos": 201,
  "GET /v1/videos/{id}": 200,
  "DELETE /v1/videos/{id}": 204,
  "POST /v1/videos/{id}/complete": 202,
  "POST /v1/videos/{id}/retry": 409,
  "GET /v1/videos/{id}/images": 200,
  "GET /v1/videos/{id}/images.zip": 302,
  "GET /v1/videos/{id}/events": 200,
  "GET /v1/videos/{id}/upload-parts": 409,
  "POST /v1/videos/{id}/upload-parts": 409,
  "POST /v1/videos/{id}/transcodes": 202,
  "GET /v1/videos/{id}/transcodes": 200,
  "GET /v1/videos/{id}/transcodes/{tid}": 200,
  "POST /v1/videos/{id}/transcodes/{tid}/retry": 409,
  "DELETE /v1/videos/{id}/transcodes/{tid}": 204,
  // Images on demand: the matrix's video has a stand-in source (zeros, not a video), so the owner reaches the
  // real processor and gets its 422; tests/workers/routes/images.test.ts renders a real one.
  "GET /v1/videos/{id}/thumbnail.jpg": 422,
  "GET /v1/videos/{id}/thumbnail.png": 422,
  "GET /v1/videos/{id}/thumbnail.webp": 422,
  "GET /v1/videos/{id}/animated.gif": 422,
  "GET /v1/videos/{id}/animated.webp": 422,
  "GET /v1/videos/{id}/storyboard.jpg": 422,
  "GET /v1/videos/{id}/storyboard.webp": 422,
  "GET /v1/videos/{id}/storyboard.vtt": 422,
  "GET /v1/videos/{id}/storyboard.json": 422,
  "POST /v1/videos/{id}/image-urls": 200,
  "GET /v1/stats": 200,
  "POST /v1/webhooks": 201,
  "GET /v1/webhooks": 200,
  "GET /v1/webhooks/{id}": 200,
  "DELETE /v1/webhooks/{id}": 204,
  "GET /v1/webhooks/{id}/deliveries": 200,
  "POST /v1/webhooks/{id}/test": 202,
  "POST /v1/webhooks/{id}/rotate-secret": 200,
  "POST /v1/generators": 201,
  "GET /v1/generators": 200,
  "GET /v1/generators/{id}": 200,
  "DELETE /v1/generators/{id}": 204,
  "POST /v1/generators/{id}/rotate-secret": 200,
  "POST /v1/generations": 202,
  "POST /v1/api-keys": 201,
  "GET /v1/api-keys": 200,
  "DELETE /v1/api-keys/{id}": 204,
};

/** Kinds of resources a path parameter can name; the test knows how to make one of each for the owner. */
export type FixtureKind = "video" | "webhook" | "api-key" | "transcode" | "generator";

/** Collection path → the resource its `{id}` names. */
export const PARAM_FIXTURES: Record<string, FixtureKind> = {
  "/v1/videos": "video",
  "/v1/webhooks": "webhook",
  "/v1/api-keys": "api-key",
  "/v1/generators": "generator",
};

/**
 * JSON bodies sent with a route (to every credential alike). Resource names inside carry no data of the
 * owner; `{webhookUrl}` is replaced by the test's receiver, `{generatorId}` by the owner's standing generator.
 */
export const REQUEST_BODIES: Partial<Record<RouteKey, unknown>> = {
  "POST /v1/videos": { filename: "clip.mp4", contentType: "video/mp4", sizeBytes: 10 },
  "POST /v1/videos/{id}/upload-parts": { partNumbers: [1] },
  "POST /v1/videos/{id}/transcodes": { renditions: [{ format: "mp4", height: 240 }] },
  "POST /v1/webhooks": { url: "{webhookUrl}", description: "matrix" },
  "POST /v1/api-keys": { name: "matrix" },
  "POST /v1/generators": { name: "matrix", url: "{webhookUrl}" },
  "POST /v1/generations": { generator: "{generatorId}", input: { matrix: true } },
};

/** Routes whose body (not path) names a resource of the owner: another user gets 404 there too. */
export const BODY_REFERENCE_ROUTES: readonly RouteKey[] = ["POST /v1/generations"];

/**
 * The only `/v1` routes without a bearer requirement: the HLS playlists, opened by their playback token, and
 * a generator's callback, opened by its generation's callback token.
 */
export const TOKEN_AUTHENTICATED_ROUTES: readonly RouteKey[] = [
  "GET /v1/videos/{id}/transcodes/{tid}/master.m3u8",
  "GET /v1/videos/{id}/transcodes/{tid}/hls/{height}/index.m3u8",
  "POST /v1/generations/{id}/callback",
];

/** Routes only a signed-in session may use: an API key gets 403 there (edge-api/src/auth.ts `requireSession`). */
export const SESSION_ONLY_PREFIXES = ["/v1/api-keys"] as const;

const isSessionOnly = (route: RouteKey) => SESSION_ONLY_PREFIXES.some((p) => route.split(" ")[1]!.startsWith(p));

/**
 * The resource kind a route's path parameter names, or null for a route without parameters.
 * @throws Error naming the route when it has a parameter no fixture covers (add one to {@link PARAM_FIXTURES})
 */
export function fixtureFor(route: RouteKey): FixtureKind | null {
  const template = route.split(" ")[1]!;
  const params = [...template.matchAll(/\{([^}]+)\}/g)];
  if (params.length === 0) return null;
  // `{id}` then `{tid}`: one transcode of one video (`/v1/videos/{id}/transcodes/{tid}…`).
  if (params.map((p) => p[1]).join(",") === "id,tid" && template.startsWith("/v1/videos/{id}/transcodes/{tid}")) return "transcode";
  const kind = params.length === 1 && params[0]![1] === "id" ? PARAM_FIXTURES[template.slice(0, params[0]!.index! - 1)] : undefined;
  if (!kind) {
    throw new Error(
      `authz matrix: no fixture for the path parameters of ${route}; add its collection to PARAM_FIXTURES in tests/workers/support/authz-matrix.ts (and a fixture maker in authz-matrix.test.ts)`,
    );
  }
  return kind;
}

function ownerStatus(route: RouteKey): number {
  const status = OWNER_EXPECTATIONS[route];
  if (status === undefined) throw new Error(`authz matrix: no expectation for ${route} in OWNER_EXPECTATIONS (tests/workers/support/authz-matrix.ts)`);
  return status;
}

/** Expected status of a route × credential. */
export function expectedStatus(route: RouteKey, credential: Credential): number {
  switch (credential) {
    case "none":
    case "malformed":
    case "expired-session":
    case "signed-out":
    case "revoked-api-key":
    case "expired-api-key":
      return 401;
    case "other-user-api-key":
      if (isSessionOnly(route)) return 403;
    // falls through: otherwise like the other user's session
    case "other-user":
      // Another user on a route of one resource: the resource does not exist for them.
      return fixtureFor(route) || BODY_REFERENCE_ROUTES.includes(route) ? 404 : ownerStatus(route);
    case "owner-api-key":
      return isSessionOnly(route) ? 403 : ownerStatus(route);
    case "owner":
      return ownerStatus(route);
  }
}

export interface MatrixResult {
  case: string;
  expected: number;
  got: number;
  leaked: boolean;
}

/** Filled by the matrix test, one row per case, in run order. */
export const matrixResults: MatrixResult[] = [];

/** The results as a plain-text table (case, expected, got, leak). */
export function formatMatrix(results: readonly MatrixResult[] = matrixResults): string {
  const width = Math.max(4, ...results.map((r) => r.case.length));
  const lines = [`${"case".padEnd(width)}  expected  got  leak`];
  for (const r of results) {
    lines.push(`${r.case.padEnd(width)}  ${String(r.expected).padEnd(8)}  ${String(r.got).padEnd(3)}  ${r.leaked ? "LEAK" : "-"}`);
  }
  return lines.join("\n");
}
