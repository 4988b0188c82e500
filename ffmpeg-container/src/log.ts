/**
 * Structured logs: one JSON object per line on stdout, `{"level","msg",...fields,"time"}`.
 * Callers pass `jobId` (`${videoId}#${attempt}`) for job lines and never pass secrets or presigned URLs.
 */

/** Severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Writes one log record. */
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/**
 * @param write sink for one serialised line (newline included); default stdout
 * @returns a {@link Logger}
 */
export function createLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return (level, msg, fields = {}) => {
    write(JSON.stringify({ level, msg, ...fields, time: new Date().toISOString() }) + "\n");
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = () => undefined;
