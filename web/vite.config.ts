/**
 * Vite build of the dashboard (`npm run web:build` = `vite build web`): web/index.html + web/src → web/dist,
 * served by the edge-api Worker as Workers static assets (wrangler.toml `[assets]`). web/public (the
 * `_headers` file with the page's CSP) is copied as is.
 * No asset is inlined as a data: URI (`assetsInlineLimit: 0`): the CSP allows only 'self' scripts, styles
 * and fonts.
 */
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
