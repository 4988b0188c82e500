/**
 * The shape of one `vidsnap` command (one file each in ./commands) and the global flags every command
 * accepts. Parsing is `node:util` `parseArgs`, strict: unknown flags are usage errors (exit 2).
 */
import type { ParseArgsConfig } from "node:util";
import type { CliContext, ExitCode } from "./context.ts";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  name: string;
  /** One line for `vidsnap --help`. */
  summary: string;
  /** Full `vidsnap <cmd> --help` text (usage line, arguments, options, examples). */
  help: string;
  options: OptionSpec;
  /** Rewrites the command's arguments before parsing, for flags `parseArgs` cannot express (an optional value). */
  normalizeArgs?(args: string[]): string[];
  /** Positional arguments: exact count expected (`min`..`max`). */
  positionals: { min: number; max: number; names: string };
  /** Runs the command; @returns the exit code. Throws CliError / API errors (mapped by main). */
  run(ctx: CliContext, values: ParsedValues, positionals: string[]): Promise<ExitCode>;
}

/** Flags of every command. */
export const GLOBAL_OPTIONS = {
  "api-url": { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export const GLOBAL_OPTIONS_HELP = `Global options:
  --api-url URL   API base URL (env VIDSNAP_API_URL; default http://127.0.0.1:8787)
  --token TOKEN   bearer token (session token or API key; env VIDSNAP_TOKEN; default: the one saved by login)
  --json          machine-readable JSON on stdout only (no progress, no human text)
  -h, --help      help`;
