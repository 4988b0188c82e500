/**
 * `npm run check:layers` (also the first half of `npm run check:cycles`): imports between top-level folders
 * only go one way, tests → tools → product. madge finds cycles between modules; this finds a folder
 * reaching "up", which madge cannot see as long as no module cycle closes (e.g. tools/ using a test helper).
 *
 * Rules: nothing in a product folder imports tools/ or tests/; nothing in tools/ imports tests/.
 * Every relative specifier of `import … from`, `export … from`, `import("…")` and `require("…")` in the
 * .ts/.mts/.tsx/.js/.mjs files of those folders is resolved against its file; comment lines are skipped.
 * Prints each offending line as `file:line: "specifier" (folder → folder)` and exits 1; exits 0 when none.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./paths.ts";

/** Folders of the product: what is deployed or shipped (the API, consumers, processor, client, CLI, dashboard). */
export const PRODUCT_FOLDERS = ["edge-api", "email-consumer", "ffmpeg-container", "schema", "runtime", "client", "cli", "web"];

/** Top-level folders each folder must not import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  ...Object.fromEntries(PRODUCT_FOLDERS.map((f) => [f, ["tools", "tests"]])),
  tools: ["tests"],
};

const SOURCE = /\.(ts|mts|cts|tsx|js|mjs)$/;
const SKIP = new Set(["node_modules", "dist", ".wrangler", ".data"]);
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) yield full;
  }
}

/** One import that goes against the layering. */
export interface LayerViolation {
  /** Repository-relative path and 1-based line. */
  file: string;
  line: number;
  specifier: string;
  from: string;
  to: string;
}

/**
 * Scans the repository's folders for imports that break {@link FORBIDDEN}.
 * @param root repository root (default this checkout)
 * @returns every violation, in file order
 */
export function findLayerViolations(root: string = REPO_ROOT): LayerViolation[] {
  const out: LayerViolation[] = [];
  for (const [folder, forbidden] of Object.entries(FORBIDDEN)) {
    const dir = path.join(root, folder);
    let files: string[];
    try {
      files = [...sourceFiles(dir)];
    } catch {
      continue; // folder absent in this checkout
    }
    for (const file of files) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((text, i) => {
        const trimmed = text.trimStart();
        if (trimmed.startsWith("//") || trimmed.startsWith("*") || trimmed.startsWith("/*")) return;
        for (const m of text.matchAll(SPECIFIER)) {
          const specifier = m[1]!;
          if (!specifier.startsWith(".")) continue; // packages and node: builtins
          const target = path.relative(root, path.resolve(path.dirname(file), specifier.split("?")[0]!));
          const to = target.split(path.sep)[0]!;
          if (forbidden.includes(to)) out.push({ file: path.relative(root, file), line: i + 1, specifier, from: folder, to });
        }
      });
    }
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const violations = findLayerViolations();
  for (const v of violations) console.error(`${v.file}:${v.line}: "${v.specifier}" (${v.from} → ${v.to})`);
  if (violations.length > 0) {
    console.error(`check:layers: ${violations.length} import(s) against tests → tools → product`);
    process.exit(1);
  }
  console.log("check:layers: tests → tools → product, no import the other way");
}
