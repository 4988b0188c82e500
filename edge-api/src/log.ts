/**
 * Structured JSON logs: one `console.log` line per event, `{level, msg, time, ...fields}`, with the
 * request id (HTTP) or message id (queues) bound as a field. Workers Logs indexes the JSON fields.
 * Never log secrets, tokens, presigned URLs or request bodies.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger with more bound fields. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * @param bound fields added to every line (e.g. `{ requestId }`)
 * @param minLevel lines below this level are dropped (default `info`)
 */
export function createLogger(bound: Record<string, unknown> = {}, minLevel: LogLevel = "info"): Logger {
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[minLevel]) return;
    const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...bound, ...fields });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...bound, ...fields }, minLevel),
  };
}

/** `{ name, message, stack }` of an error for a log line (stacks go to logs, never to responses). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const issues = (err as { issues?: unknown }).issues;
    if (Array.isArray(issues)) {
      // A ZodError: its message is the whole issue list as JSON; log `path: message` pairs instead.
      const summary = issues
        .slice(0, 10)
        .map((i: { path?: PropertyKey[]; message?: string }) => `${(i.path ?? []).map(String).join(".") || "(root)"}: ${i.message}`);
      return { error: { name: err.name, issues: summary, issueCount: issues.length } };
    }
    return {
      error: {
        name: err.name,
        message: err.message,
        stack: err.stack?.split("\n").slice(0, 8).join("\n"),
        cause: err.cause instanceof Error ? err.cause.message : undefined,
      },
    };
  }
  return { error: { message: String(err) } };
}
