/**
 * A small Dockerfile linter for ffmpeg-container/Dockerfile, used by `npm run check:deploy` (./check.ts) because
 * no real linter installs offline here: hadolint is not packaged in Debian 12 (`apt-cache policy hadolint`
 * finds nothing) and its npm wrappers download a binary from GitHub at install time.
 *
 * Rules (hadolint's number in brackets where one exists):
 * - base-pinned    every external FROM has an explicit tag (or digest), never `latest`, no untagged image [DL3006, DL3007]
 * - apt-no-recommends  every `apt-get install` has `--no-install-recommends` and `-y` [DL3015, DL3014]
 * - apt-lists-removed  a RUN that runs `apt-get install` also runs `apt-get update` and removes
 *                      /var/lib/apt/lists in the same layer [DL3009]
 * - no-apt-upgrade  no `apt-get upgrade`/`dist-upgrade` (unpinned, unreproducible) [DL3005]
 * - non-root-user   the final stage sets USER to something other than root/0 [DL3002]
 * - healthcheck     the final stage has a HEALTHCHECK
 * - exec-form-cmd   CMD/ENTRYPOINT in exec (JSON) form, so the process is PID 1 and receives SIGTERM [DL3025]
 * - no-add          COPY instead of ADD for local files [DL3020]
 * - npm-ci          `npm install` is not used (use `npm ci` with the lockfile) [DL3016-ish]
 * - workdir-absolute  WORKDIR is absolute [DL3000]
 * - no-sudo         no sudo [DL3004]
 * - node-version    (with `nodeVersion`) every `node` base image is tagged with exactly that release
 *                   (`node:<version>` or `node:<version>-<variant>`), the final stage is one, and every
 *                   esbuild `--target=nodeN` is that release's major: the image cannot drift from the Node the
 *                   tests run on (tools/node-lts.ts)
 * - lean-ffmpeg     (with `ffmpegBuildScript`) the image ships the lean ffmpeg, not Debian's: a stage runs that
 *                   script; the final stage installs no `ffmpeg` package, COPYs `ffmpeg` and `ffprobe` from that
 *                   stage, points FFMPEG_PATH / FFPROBE_PATH at the copies, and labels the GPL-2.0-or-later
 *                   licence (README "ffmpeg")
 */

export interface LintIssue {
  rule: string;
  line: number;
  message: string;
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Joins continuation lines, drops comments and parser directives. */
function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split("\n");
  let buf = "";
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const trimmed = raw.trim();
    if (buf === "" && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (buf !== "" && trimmed.startsWith("#")) continue;
    if (buf === "") start = i + 1;
    if (trimmed.endsWith("\\")) {
      buf += trimmed.slice(0, -1) + " ";
      continue;
    }
    buf += trimmed;
    const m = /^(\S+)\s*(.*)$/s.exec(buf);
    if (m) out.push({ keyword: (m[1] ?? "").toUpperCase(), args: (m[2] ?? "").trim(), line: start });
    buf = "";
  }
  return out;
}

export interface LintOptions {
  /** The Node release the `node` base images must be tagged with (node-version rule); unset = not checked. */
  nodeVersion?: string;
  /** Repository path of the lean ffmpeg build script (lean-ffmpeg rule); unset = not checked. */
  ffmpegBuildScript?: string;
}

/** `node`, `library/node` or `docker.io/library/node` with a tag: the tag, else undefined. */
function nodeImageTag(image: string): string | undefined {
  return /^(?:(?:docker\.io\/)?library\/)?node:([^@/]+)(?:@.*)?$/.exec(image)?.[1];
}

/**
 * @param text the Dockerfile
 * @param options what else to check (the Node release)
 * @returns the broken rules (empty = clean)
 */
export function lintDockerfile(text: string, options: LintOptions = {}): LintIssue[] {
  const { nodeVersion, ffmpegBuildScript } = options;
  const issues: LintIssue[] = [];
  const ins = parse(text);
  const args = new Map<string, string>();
  const stages = new Set<string>();
  let lastFrom = -1;
  ins.forEach((i, idx) => {
    if (i.keyword === "FROM") lastFrom = idx;
  });
  if (lastFrom < 0) return [{ rule: "from", line: 1, message: "no FROM instruction" }];

  for (const [idx, i] of ins.entries()) {
    const finalStage = idx >= lastFrom;
    switch (i.keyword) {
      case "ARG": {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(i.args);
        if (m?.[1] && m[2] !== undefined) args.set(m[1], m[2].replace(/^"|"$/g, ""));
        break;
      }
      case "FROM": {
        const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
        const image = (parts[0] ?? "").replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => args.get(n) ?? `<unset ${n}>`);
        const alias = parts[1]?.toUpperCase() === "AS" ? parts[2] : undefined;
        if (stages.has(image) || image === "scratch") {
          // a previous stage or scratch: nothing to pin
        } else if (image.includes("<unset")) {
          issues.push({ rule: "base-pinned", line: i.line, message: `FROM ${parts[0]} uses an ARG without a default` });
        } else if (!image.includes("@sha256:")) {
          const tag = /:([^/]+)$/.exec(image)?.[1];
          if (!tag) issues.push({ rule: "base-pinned", line: i.line, message: `FROM ${image} has no tag` });
          else if (tag === "latest") issues.push({ rule: "base-pinned", line: i.line, message: `FROM ${image} uses latest` });
        }
        if (nodeVersion !== undefined && !stages.has(image)) {
          const tag = nodeImageTag(image);
          if (tag === undefined) {
            if (finalStage) issues.push({ rule: "node-version", line: i.line, message: `the final stage is not built FROM node:${nodeVersion}… (is ${image})` });
          } else if (tag !== nodeVersion && !tag.startsWith(`${nodeVersion}-`)) {
            issues.push({ rule: "node-version", line: i.line, message: `FROM ${image} is not Node ${nodeVersion} (tools/node-lts.ts NODE_LTS_VERSION)` });
          }
        }
        if (alias) stages.add(alias);
        break;
      }
      case "RUN": {
        const cmd = i.args;
        if (/\bsudo\b/.test(cmd)) issues.push({ rule: "no-sudo", line: i.line, message: "RUN uses sudo" });
        if (/apt-get\s+(dist-)?upgrade/.test(cmd)) {
          issues.push({ rule: "no-apt-upgrade", line: i.line, message: "apt-get upgrade makes the image unreproducible" });
        }
        if (/(apt-get|apt)\s+install/.test(cmd)) {
          for (const seg of cmd.split(/&&|;/).filter((s) => /(apt-get|apt)\s+install/.test(s))) {
            if (!seg.includes("--no-install-recommends")) {
              issues.push({ rule: "apt-no-recommends", line: i.line, message: "apt-get install without --no-install-recommends" });
            }
            if (!/\s(-y|--yes|-qq?y|--assume-yes)\b/.test(seg)) {
              issues.push({ rule: "apt-no-recommends", line: i.line, message: "apt-get install without -y" });
            }
          }
          if (!/apt-get\s+update/.test(cmd)) {
            issues.push({ rule: "apt-lists-removed", line: i.line, message: "apt-get install without apt-get update in the same RUN" });
          }
          if (!/rm\s+-(rf|fr|r)\s+\/var\/lib\/apt\/lists/.test(cmd)) {
            issues.push({ rule: "apt-lists-removed", line: i.line, message: "apt lists not removed in the same RUN (rm -rf /var/lib/apt/lists/*)" });
          }
        }
        if (nodeVersion !== undefined) {
          const major = nodeVersion.split(".")[0];
          for (const t of cmd.matchAll(/--target[= ](?:\S*,)?node(\d+)/g)) {
            if (t[1] !== major) {
              issues.push({ rule: "node-version", line: i.line, message: `esbuild --target=node${t[1]}, the image runs Node ${major}` });
            }
          }
        }
        if (/\bnpm\s+(install|i)\b/.test(cmd)) issues.push({ rule: "npm-ci", line: i.line, message: "use npm ci with the lockfile" });
        break;
      }
      case "ADD":
        if (!/https?:\/\//.test(i.args)) issues.push({ rule: "no-add", line: i.line, message: "use COPY for local files" });
        break;
      case "WORKDIR":
        if (!i.args.startsWith("/") && !i.args.startsWith("$")) {
          issues.push({ rule: "workdir-absolute", line: i.line, message: `WORKDIR ${i.args} is relative` });
        }
        break;
      case "CMD":
      case "ENTRYPOINT":
        if (finalStage && !i.args.startsWith("[")) {
          issues.push({ rule: "exec-form-cmd", line: i.line, message: `${i.keyword} in shell form: the process will not get SIGTERM` });
        }
        break;
    }
  }

  const final = ins.slice(lastFrom);
  const users = final.filter((i) => i.keyword === "USER");
  const lastUser = users.at(-1)?.args.split(":")[0];
  if (!lastUser) issues.push({ rule: "non-root-user", line: ins[lastFrom]?.line ?? 1, message: "final stage has no USER (runs as root)" });
  else if (lastUser === "root" || lastUser === "0") {
    issues.push({ rule: "non-root-user", line: users.at(-1)?.line ?? 1, message: "final stage runs as root" });
  }
  const hc = final.find((i) => i.keyword === "HEALTHCHECK");
  if (!hc || /^NONE$/i.test(hc.args)) issues.push({ rule: "healthcheck", line: ins[lastFrom]?.line ?? 1, message: "final stage has no HEALTHCHECK" });
  if (!final.some((i) => i.keyword === "CMD" || i.keyword === "ENTRYPOINT")) {
    issues.push({ rule: "exec-form-cmd", line: ins[lastFrom]?.line ?? 1, message: "final stage has no CMD/ENTRYPOINT" });
  }
  if (ffmpegBuildScript !== undefined) issues.push(...leanFfmpegIssues(ins, lastFrom, ffmpegBuildScript));
  return issues;
}

/** The lean-ffmpeg rule (see the header) over parsed instructions; `lastFrom` = index of the final FROM. */
function leanFfmpegIssues(ins: Instruction[], lastFrom: number, script: string): LintIssue[] {
  const issues: LintIssue[] = [];
  const at = ins[lastFrom]?.line ?? 1;
  // Stages (by alias) whose RUNs invoke the build script.
  const builders = new Set<string>();
  let stage: string | undefined;
  for (const i of ins.slice(0, lastFrom)) {
    if (i.keyword === "FROM") {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      stage = parts[1]?.toUpperCase() === "AS" ? parts[2] : undefined;
    } else if (i.keyword === "RUN" && stage && i.args.includes(script)) builders.add(stage);
  }
  if (builders.size === 0) issues.push({ rule: "lean-ffmpeg", line: at, message: `no build stage runs ${script}` });
  const final = ins.slice(lastFrom);
  for (const i of final) {
    if (i.keyword === "RUN" && /(apt-get|apt)\s+install\b[^&;|]*\sffmpeg(\s|$)/.test(i.args)) {
      issues.push({ rule: "lean-ffmpeg", line: i.line, message: "the final stage installs Debian's ffmpeg package (the image ships the lean build)" });
    }
  }
  // Where COPY --from=<builder> puts each binary: "<dest>/<name>" when dest ends with "/".
  const copied = new Map<string, string>();
  for (const i of final.filter((f) => f.keyword === "COPY")) {
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    if (!from || !builders.has(from)) continue;
    const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
    const dest = words.at(-1) ?? "";
    for (const src of words.slice(0, -1)) {
      const name = src.split("/").pop() ?? "";
      if (name === "ffmpeg" || name === "ffprobe") copied.set(name, dest.endsWith("/") ? `${dest}${name}` : dest);
    }
  }
  const env = new Map<string, string>();
  for (const i of final.filter((f) => f.keyword === "ENV")) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env.set(m[1] ?? "", (m[2] ?? "").replace(/^"|"$/g, ""));
  }
  for (const [name, variable] of [["ffmpeg", "FFMPEG_PATH"], ["ffprobe", "FFPROBE_PATH"]] as const) {
    const dest = copied.get(name);
    if (!dest) issues.push({ rule: "lean-ffmpeg", line: at, message: `the final stage does not COPY ${name} from the lean build stage` });
    else if (env.get(variable) !== dest) {
      issues.push({ rule: "lean-ffmpeg", line: at, message: `${variable} is ${env.get(variable) ?? "unset"}, the lean ${name} is copied to ${dest}` });
    }
  }
  if (!final.some((i) => i.keyword === "LABEL" && i.args.includes("GPL-2.0-or-later"))) {
    issues.push({ rule: "lean-ffmpeg", line: at, message: "no LABEL states the ffmpeg binaries' licence (GPL-2.0-or-later)" });
  }
  return issues;
}

/** Names of the rules, for the report. */
export const DOCKERFILE_RULES = [
  "base-pinned",
  "apt-no-recommends",
  "apt-lists-removed",
  "no-apt-upgrade",
  "non-root-user",
  "healthcheck",
  "exec-form-cmd",
  "no-add",
  "npm-ci",
  "workdir-absolute",
  "no-sudo",
  "node-version",
  "lean-ffmpeg",
] as const;
