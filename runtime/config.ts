/**
 * Configuration loading, one convention for every vidsnap process: the raw source (a Worker's `env`, or
 * `process.env`) is parsed by a zod schema at the entry, cross-field rules add their own problems, and any
 * problem throws {@link ConfigError}. Problems name variables and rules, never values (values may be secrets).
 */
import type { z } from "zod";

/** Thrown by {@link loadConfig}; `problems` are lines like `"S3_ENDPOINT: Invalid URL"`. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly problems: readonly string[],
    what = "configuration",
  ) {
    super(`invalid ${what}: ${problems.join("; ")}`);
  }
}

/**
 * @param schema zod schema of the raw source; its output is the config
 * @param source the raw values (`env`, `process.env`)
 * @param opts.check cross-field rules on the parsed config, returning problem lines (none: valid)
 * @param opts.what names the config in the error message, e.g. `"processor environment"`
 * @returns the parsed config
 * @throws ConfigError listing every problem
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  source: unknown,
  opts: { check?: (config: z.output<S>) => string[]; what?: string } = {},
): z.output<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`),
      opts.what,
    );
  }
  const problems = opts.check?.(parsed.data) ?? [];
  if (problems.length > 0) throw new ConfigError(problems, opts.what);
  return parsed.data;
}
