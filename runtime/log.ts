/**
 * Structured JSON logs for every vidsnap process (the Workers and the processor): one line per event,
 * `{level, msg, time, ...bound, ...fields}`, where `bound` carries the request id (HTTP), message id (queues)
 * or job id (processor). Workers Logs and `docker logs` index the JSON fields.
 * Never log secrets, tokens, presigned URLs or request bodies.
 */

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Extra fields of a line; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`. */
  child(fields: LogFields): Logger;
}

/** Where serialised lines go: `line` is one JSON object without a newline. */
export type LogSink = (level: LogLevel, line: string) => void;

/** The console sink: `warn` and `error` to stderr (`console.warn`/`console.error`), the rest to stdout. */
export const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/**
 * @param bound fields added to every line, e.g. `{ requestId }` or `{ jobId }`
 * @param opts.minLevel lines below this level are dropped (default `info`)
 * @param opts.sink where lines go (default {@link consoleSink})
 */
export function createLogger(
  bound: LogFields = {},
  opts: { minLevel?: LogLevel; sink?: LogSink } = {},
): Logger {
  const minLevel = opts.minLevel ?? "info";
  const sink = opts.sink ?? consoleSink;
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < RANK[minLevel]) return;
    sink(level, JSON.stringify({ level, msg, time: new Date().toISOString(), ...bound, ...fields }));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...bound, ...fields }, opts),
  };
}

/** A logger that drops every line (tests). */
export const silentLogger: Logger = createLogger({}, { sink: () => undefined });

/**
 * `{error: {name, message, stack, cause, statusCode, code}}` of a thrown value for a log line: stacks go
 * to logs, never to responses. A ZodError is reduced to `path: message` pairs (its message is the whole
 * issue list as JSON). Messages are cut at 1,000 characters and stacks at 8 lines.
 */
export function errorFields(err: unknown): { error: LogFields } {
  if (!(err instanceof Error)) return { error: { name: "NonError", message: String(err).slice(0, 1000) } };
  const issues = (err as { issues?: unknown }).issues;
  if (Array.isArray(issues)) {
    const summary = issues
      .slice(0, 10)
      .map((i: { path?: PropertyKey[]; message?: string }) => `${(i.path ?? []).map(String).join(".") || "(root)"}: ${i.message}`);
    return { error: { name: err.name, issues: summary, issueCount: issues.length } };
  }
  const { statusCode, code } = err as Error & { statusCode?: unknown; code?: unknown };
  return {
    error: {
      name: err.name,
      message: err.message.slice(0, 1000),
      stack: err.stack?.split("\n").slice(0, 8).join("\n"),
      ...(err.cause instanceof Error ? { cause: err.cause.message.slice(0, 1000) } : {}),
      ...(typeof statusCode === "number" && statusCode > 0 ? { statusCode } : {}),
      ...(typeof code === "number" || typeof code === "string" ? { code } : {}),
    },
  };
}
