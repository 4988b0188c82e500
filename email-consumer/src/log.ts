/**
 * Structured logging for the email consumer: one JSON object per line on the console, which is what
 * Workers Logs / `wrangler tail` index. Never pass secrets (the Postmark token) in `fields`.
 */

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Extra fields merged into the log line; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/**
 * Writes one structured log line `{"level", "msg", ...fields}`.
 * @param level severity; `warn` and `error` go to `console.warn` / `console.error`
 * @param msg a short constant message (searchable), details go in `fields`
 * @param fields extra context (message id, video id, error...)
 */
export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * Reduces an unknown thrown value to a loggable, bounded description (name, message, HTTP status and
 * Postmark error code when present). Stack traces are left out on purpose: they add noise to queue logs.
 */
export function describeError(error: unknown): { name: string; message: string; statusCode?: number; code?: number } {
  if (error instanceof Error) {
    const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
    return {
      name: error.name,
      message: error.message.slice(0, 1000),
      ...(typeof statusCode === "number" && statusCode > 0 ? { statusCode } : {}),
      ...(typeof code === "number" && code > 0 ? { code } : {}),
    };
  }
  return { name: "NonError", message: String(error).slice(0, 1000) };
}
