/**
 * The `vidsnap` command line: global flags, command dispatch, help, and the mapping of errors to exit
 * codes ({@link EXIT}). `runCli` never calls `process.exit`, so it can run in-process (tests, demo).
 */
import { parseArgs } from "node:util";
import { GLOBAL_OPTIONS, GLOBAL_OPTIONS_HELP, type Command } from "./command.ts";
import { createContext, describeError, EXIT, EXIT_CODES_HELP, usageError, type CliIO, type ExitCode } from "./context.ts";
import { downloadCommand } from "./commands/download.ts";
import { eventsCommand } from "./commands/events.ts";
import { generateCommand } from "./commands/generate.ts";
import { generatorsCommand } from "./commands/generators.ts";
import { imagesCommand } from "./commands/images.ts";
import { importCommand } from "./commands/import.ts";
import { loginCommand } from "./commands/login.ts";
import { lsCommand } from "./commands/ls.ts";
import { retryCommand } from "./commands/retry.ts";
import { rmCommand } from "./commands/rm.ts";
import { statusCommand } from "./commands/status.ts";
import { thumbnailCommand } from "./commands/thumbnail.ts";
import { transcodeCommand } from "./commands/transcode.ts";
import {
  transcodeDownloadCommand,
  transcodeRetryCommand,
  transcodeRmCommand,
  transcodesCommand,
  transcodeStatusCommand,
} from "./commands/transcodes.ts";
import { uploadCommand } from "./commands/upload.ts";

export const COMMANDS: readonly Command[] = [
  loginCommand,
  uploadCommand,
  importCommand,
  generateCommand,
  generatorsCommand,
  lsCommand,
  statusCommand,
  eventsCommand,
  imagesCommand,
  downloadCommand,
  thumbnailCommand,
  retryCommand,
  rmCommand,
  transcodeCommand,
  transcodesCommand,
  transcodeStatusCommand,
  transcodeDownloadCommand,
  transcodeRetryCommand,
  transcodeRmCommand,
];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `vidsnap: turn videos into ZIP archives of still images and MP4 / WebM / HLS renditions (client of the vidsnap REST API)

Usage: vidsnap <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run \`vidsnap <command> --help\` for its options.

${GLOBAL_OPTIONS_HELP}

${EXIT_CODES_HELP}

Example:
  vidsnap login --sign-up --email me@example.com
  vidsnap upload talk.mp4 --every 10s --wait && vidsnap download <id>
  vidsnap transcode <id> --mp4 720,480 --hls --wait`;
}

/** Global flags that take a value (to find the command name among them). */
const VALUE_FLAGS = new Set(Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === "string").map(([name]) => `--${name}`));

/**
 * Runs one command line.
 * @param argv arguments after `vidsnap`, e.g. `["ls", "--json"]`
 * @returns the exit code (help and usage errors included)
 */
export async function runCli(argv: string[], io: CliIO, extra: { fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<ExitCode> {
  // The command is the first argument that is neither a flag nor the value of a global flag.
  let at = -1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith("-")) {
      at = i;
      break;
    }
  }
  const name = at >= 0 ? argv[at]! : undefined;
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 1)] : argv;
  const command = name === "help" ? undefined : COMMANDS.find((c) => c.name === name);
  let json = rest.includes("--json");
  try {
    if (!command) {
      if (name === "help" || name === undefined) {
        const wantsHelp = name === "help" || rest.includes("--help") || rest.includes("-h");
        if (wantsHelp || rest.length === 0) {
          const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
          // Asked for: stdout, exit 0. No command at all: the help on stderr, exit 2.
          (wantsHelp ? io.stdout : io.stderr).write((topic?.help ?? mainHelp()) + "\n");
          return wantsHelp ? EXIT.ok : EXIT.usage;
        }
      }
      throw usageError(name ? `unknown command "${name}"` : `no command given`);
    }
    const { values, positionals } = parseArgs({
      args: command.normalizeArgs ? command.normalizeArgs(rest) : rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    json = values.json === true;
    if (values.help) {
      io.stdout.write(`${command.help}\n\n${GLOBAL_OPTIONS_HELP}\n`);
      return EXIT.ok;
    }
    const { min, max, names } = command.positionals;
    if (positionals.length < min) throw usageError(`missing ${names}`);
    if (positionals.length > max) throw usageError(`unexpected argument "${positionals[max]}"`);
    const ctx = createContext(
      io,
      {
        ...(typeof values["api-url"] === "string" ? { apiUrl: values["api-url"] } : {}),
        ...(typeof values.token === "string" ? { token: values.token } : {}),
        json,
      },
      extra,
    );
    return await command.run(ctx, values, positionals);
  } catch (err) {
    if (extra.signal?.aborted) {
      io.stderr.write("\ninterrupted\n");
      return EXIT.interrupted;
    }
    // parseArgs' own errors (unknown flag, missing value) are usage errors too.
    const code = (err as { code?: string }).code;
    const { exitCode, message } =
      typeof code === "string" && code.startsWith("ERR_PARSE_ARGS") ? { exitCode: EXIT.usage, message: (err as Error).message } : describeError(err);
    const videoId = (err as { videoId?: string }).videoId;
    io.stderr.write(`vidsnap: ${message}${videoId ? `\n(video ${videoId})` : ""}\n`);
    if (exitCode === EXIT.usage && !(typeof (err as { status?: unknown }).status === "number")) {
      io.stderr.write(`see: vidsnap ${command ? `${command.name} ` : ""}--help\n`);
    }
    if (json) io.stdout.write(JSON.stringify({ error: { exitCode, message } }) + "\n");
    return exitCode;
  }
}
