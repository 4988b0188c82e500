/**
 * The authorisation matrix of issue 5 as data: every `/v1` route of the OpenAPI document × every kind of
 * credential, with the expected status. tests/workers/authz-matrix.test.ts runs it and records what it
 * got in {@link matrixResults}; a future `npm run audit:security` can print {@link formatMatrix}.
 */

/** Kinds of credentials tried on every route. */
export const CREDENTIALS = ["none", "malformed", "expired-session", "signed-out", "other-user", "owner"] as const;
export type Credential = (typeof CREDENTIALS)[number];

/** `METHOD /path` as in the OpenAPI document (`{id}` parameters). */
export type RouteKey = `${"GET" | "POST" | "DELETE"} /v1${string}`;

/**
 * What the owner gets from each route (the other credentials are uniform: see {@link expectedStatus}).
 * GET/images/images.zip/complete/retry run on a video whose extraction succeeded; DELETE on a fresh one.
 * A route of the OpenAPI document missing here fails the matrix test.
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
};

function ownerStatus(route: RouteKey): number {
  const status = OWNER_EXPECTATIONS[route];
  if (status === undefined) throw new Error(`no expectation for ${route} in OWNER_EXPECTATIONS`);
  return status;
}

/** Expected status of a route × credential. */
export function expectedStatus(route: RouteKey, credential: Credential): number {
  switch (credential) {
    case "none":
    case "malformed":
    case "expired-session":
    case "signed-out":
      return 401;
    case "other-user":
      // Another user's token on a route of one video: the video does not exist for them.
      return route.includes("{id}") ? 404 : ownerStatus(route);
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
