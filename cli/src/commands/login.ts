/**
 * `vidsnap login [--email E --password P | prompts] [--sign-up [--name N]] | --api-key KEY`: signs in (or up) with
 * better-auth's email + password routes and saves the session token for the API URL in the credentials
 * file (mode 0600), or saves an API key after checking it. Prompts for what is missing (the password without echo on a terminal; lines of
 * stdin otherwise).
 */
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { authenticate, createVidsnapClient, unwrap } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { EXIT, note, printJson, saveCredential, say, usageError, type CliContext } from "../context.ts";

export interface LoginInput {
  email: string;
  password: string;
  /** Create the account instead of signing in. */
  signUp?: boolean;
  /** Display name for sign-up (default: the email's local part). */
  name?: string;
}

export interface LoginResult {
  apiUrl: string;
  email: string;
  userId: string;
  credentialsFile: string;
}

/**
 * Signs in or up, saves the token and makes it the context's token.
 * @throws VidsnapApiError (401 wrong credentials, 422 account exists or password too short), network errors
 */
export async function login(ctx: CliContext, input: LoginInput): Promise<LoginResult> {
  const session = await authenticate(
    ctx.apiUrl,
    input.signUp ? "sign-up" : "sign-in",
    { email: input.email, password: input.password, ...(input.name ? { name: input.name } : {}) },
    ctx.fetch,
  );
  saveCredential(ctx.credentialsFile, ctx.apiUrl, {
    token: session.token,
    email: session.user.email,
    userId: session.user.id,
    savedAt: new Date().toISOString(),
  });
  ctx.token = session.token;
  return { apiUrl: ctx.apiUrl, email: session.user.email, userId: session.user.id, credentialsFile: ctx.credentialsFile };
}

/**
 * Saves an API key (`vsk_…`, from `POST /v1/api-keys`) as the token of the context's API URL, after
 * checking that the API accepts it (`GET /v1/videos?limit=1`).
 * @throws VidsnapApiError (401 unknown, revoked or expired key), network errors
 */
export async function loginWithApiKey(ctx: CliContext, key: string): Promise<LoginResult> {
  unwrap(await createVidsnapClient({ baseUrl: ctx.apiUrl, token: key, fetch: ctx.fetch }).GET("/v1/videos", { params: { query: { limit: 1 } } }));
  saveCredential(ctx.credentialsFile, ctx.apiUrl, { token: key, email: "", userId: "", savedAt: new Date().toISOString() });
  ctx.token = key;
  return { apiUrl: ctx.apiUrl, email: "", userId: "", credentialsFile: ctx.credentialsFile };
}

/**
 * Reads answers from stdin, one line each, through one readline interface (lines piped together are
 * not lost); an answer with `secret` is not echoed on a terminal.
 */
async function prompt(ctx: CliContext, questions: { text: string; secret: boolean }[]): Promise<string[]> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) ctx.io.stderr.write(chunk.toString());
      cb();
    },
  });
  const tty = ctx.io.stdin.isTTY === true;
  const rl = createInterface({ input: ctx.io.stdin, output, terminal: tty });
  const answers: string[] = [];
  // stdin ending early (nothing piped) answers "" instead of waiting forever.
  const closed = new Promise<string>((resolve) => rl.once("close", () => resolve("")));
  try {
    for (const q of questions) {
      muted = false;
      const answer = rl.question(q.text);
      muted = q.secret && tty;
      answers.push((await Promise.race([answer, closed])).trim());
      if (muted) ctx.io.stderr.write("\n");
    }
    return answers;
  } finally {
    rl.close();
  }
}

export const loginCommand: Command = {
  name: "login",
  summary: "sign in (or --sign-up) and save the token",
  help: `Usage: vidsnap login [--email EMAIL] [--password PASSWORD] [--sign-up [--name NAME]]
       vidsnap login --api-key KEY|-

Signs in with email and password and saves the session token for the API URL in
$XDG_CONFIG_HOME/vidsnap/credentials.json (else ~/.config/vidsnap/credentials.json), mode 0600.
Missing values are prompted for (the password without echo); without a terminal they are read as
lines from stdin.

Options:
  --email EMAIL        account email
  --password PASSWORD  password (10 characters or more for a new account)
  --sign-up            create the account first
  --name NAME          display name for --sign-up (default: the part of the email before @)
  --api-key KEY        save an API key (vsk_…, from POST /v1/api-keys) instead of signing in;
                       "-" reads it from stdin (no echo on a terminal); checked against the API first

Examples:
  vidsnap login --sign-up --email me@example.com
  printf '%s\\n' "$PASSWORD" | vidsnap login --email me@example.com`,
  options: {
    email: { type: "string" },
    password: { type: "string" },
    "sign-up": { type: "boolean" },
    name: { type: "string" },
    "api-key": { type: "string" },
  },
  positionals: { min: 0, max: 0, names: "" },
  async run(ctx, values) {
    if (values["api-key"] !== undefined) {
      if (values.email !== undefined || values.password !== undefined || values["sign-up"] || values.name !== undefined) {
        throw usageError("--api-key goes alone (no --email, --password, --sign-up, --name)");
      }
      let key = values["api-key"] as string;
      if (key === "-") [key = ""] = await prompt(ctx, [{ text: "API key: ", secret: true }]);
      if (!key) throw usageError("an API key is needed");
      const result = await loginWithApiKey(ctx, key);
      if (ctx.json) printJson(ctx, result);
      else say(ctx, `API key saved for ${result.apiUrl} in ${result.credentialsFile}`);
      return EXIT.ok;
    }
    let email = values.email as string | undefined;
    let password = values.password as string | undefined;
    if (!email || !password) {
      const questions = [...(email ? [] : [{ text: "email: ", secret: false }]), ...(password ? [] : [{ text: "password: ", secret: true }])];
      const answers = await prompt(ctx, questions);
      email ??= answers.shift();
      password ??= answers.shift();
    }
    if (!email || !password) throw usageError("an email and a password are needed");
    if (values.name !== undefined && !values["sign-up"]) throw usageError("--name only goes with --sign-up");
    const result = await login(ctx, {
      email,
      password,
      signUp: values["sign-up"] === true,
      ...(typeof values.name === "string" ? { name: values.name } : {}),
    });
    if (ctx.json) printJson(ctx, result);
    else {
      say(ctx, `${values["sign-up"] ? "Signed up" : "Signed in"} as ${result.email} at ${result.apiUrl}`);
      note(ctx, `token saved in ${result.credentialsFile}`);
    }
    return EXIT.ok;
  },
};
