/**
 * Vite build of the dashboard (`npm run web:build` = `vite build web`): web/index.html + web/src → web/dist,
 * served by the edge-api Worker as Workers static assets (wrangler.toml `[assets]`). web/public (the
 * `_headers` file with the page's CSP, the /docs page's setup script) is copied as is.
 * No asset is inlined as a data: URI (`assetsInlineLimit: 0`): the CSP allows only 'self' scripts, styles
 * and fonts.
 * The /docs page (edge-api/src/routes/meta/docs.ts) gets Scalar's API reference bundle from node_modules,
 * copied to web/dist/docs-assets/ ({@link scalarBundle}), so it is served from this origin, never a CDN.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { defineConfig, type Plugin } from "vite";

/** Emits `@scalar/api-reference`'s standalone browser bundle as `docs-assets/scalar-api-reference.js`. */
function scalarBundle(): Plugin {
  return {
    name: "vidsnap-scalar-bundle",
    apply: "build",
    generateBundle() {
      // The package's exports map lists no browser bundle: find it beside the resolved entry (dist/index.js).
      const entry = createRequire(import.meta.url).resolve("@scalar/api-reference");
      const file = path.join(path.dirname(entry), "browser/standalone.js");
      this.emitFile({ type: "asset", fileName: "docs-assets/scalar-api-reference.js", source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [scalarBundle()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
