/**
 * `GET /docs`: the API reference of `/openapi.json`, rendered in the browser by Scalar's API reference
 * (`@scalar/api-reference`, its standalone browser bundle). The page is a fixed HTML shell: its scripts are
 * files of the Worker's own static assets ({@link DOCS_SCRIPTS}, copied into web/dist by web/vite.config.ts),
 * its configuration is a `data-configuration` attribute, nothing is loaded from another origin, and "try it"
 * requests go to this origin. Its CSP ({@link docsCsp}, with a nonce per response) is kept by
 * ../../security-headers.ts.
 */
import type { App } from "../shared.ts";

/** Script files of the page, in load order, under web/dist (web/vite.config.ts and web/public/docs-assets/). */
export const DOCS_SCRIPTS = {
  /** Stamps the response's nonce on `<style>` elements scripts create; tells zod not to probe for eval. */
  setup: "/docs-assets/setup.js",
  /** `@scalar/api-reference/dist/browser/standalone.js`, copied at build time. */
  scalar: "/docs-assets/scalar-api-reference.js",
} as const;

/**
 * Scalar's configuration (https://scalar.com/products/api-references/configuration): the document of this
 * origin, no fonts from fonts.scalar.com, no telemetry, none of the features that talk to Scalar's services
 * (AI agent, MCP, developer toolbar, the "Open API Client" link), no request proxy (`proxyUrl` unset), so
 * "Test Request" calls the API directly, on this origin.
 */
export const DOCS_CONFIGURATION = {
  theme: "default",
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  hideClientButton: true,
  showOperationId: true,
} as const;

/**
 * The page's CSP for one response. Scripts: this origin only, no inline code, no eval. `<style>` elements:
 * this origin, and those carrying the response's nonce. Scalar puts a nonce on its main sheet itself
 * (read from `<meta property="csp-nonce">`); the other sheets it inserts (the theme, rendered by Vue;
 * sonner's toasts; CodeMirror's editor themes, whose text grows as editors mount, so no hash could pin it)
 * are created with `document.createElement("style")`, which the setup script stamps with the same nonce.
 * A `<style>` arriving in markup (the parser, innerHTML) has none and is refused.
 * Style attributes (`style-src-attr`) are the one 'unsafe-inline': Scalar's code blocks carry
 * `style="--line-count: N; --line-digits: D"` in HTML it assigns with innerHTML, one value per line count,
 * so neither a nonce nor a finite hash list covers them; a style attribute can neither run code nor load
 * anything beyond img-src. Images: this origin and `data:` (the sheets' SVG icons). connect-src: the
 * document and "Test Request" calls, on this origin.
 */
export function docsCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The page for one response: Scalar mounts itself before `#api-reference` and loads its `data-url`
 * (`type="application/json"`: never run).
 */
export function docsHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="csp-nonce" content="${nonce}">
<title>vidsnap API reference</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<noscript>This reference needs JavaScript. The API description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</noscript>
<script src="${DOCS_SCRIPTS.setup}"></script>
<script id="api-reference" type="application/json" data-url="/openapi.json" data-configuration="${escapeAttribute(JSON.stringify(DOCS_CONFIGURATION))}"></script>
<script src="${DOCS_SCRIPTS.scalar}"></script>
</body>
</html>
`;
}

/** A fresh CSP nonce: 128 random bits, base64. */
function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/** `GET /docs`: the page with a fresh nonce in its CSP and its meta element. */
export function registerDocs(app: App) {
  app.get("/docs", (c) => {
    const nonce = newNonce();
    c.header("content-security-policy", docsCsp(nonce));
    return c.html(docsHtml(nonce));
  });
}
