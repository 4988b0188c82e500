/**
 * RFC 9457 problem details: the one base of every problem `type` URI vidsnap answers with (edge-api,
 * processor) and that clients parse. The kind after the base is stable, e.g. `not-found`, `rate-limited`.
 */

/** Problem `type` URIs start with this; the rest is the kind. */
export const PROBLEM_TYPE_BASE = "https://vidsnap.dev/problems/";

/** @returns the `type` URI of a problem kind, e.g. `problemType("not-found")` */
export function problemType(kind: string): string {
  return PROBLEM_TYPE_BASE + kind;
}

/** @returns the kind of a `type` URI under {@link PROBLEM_TYPE_BASE}, or undefined for any other string */
export function problemKind(type: unknown): string | undefined {
  return typeof type === "string" && type.startsWith(PROBLEM_TYPE_BASE) ? type.slice(PROBLEM_TYPE_BASE.length) : undefined;
}
