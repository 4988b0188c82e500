/**
 * `GET /docs`: a server-rendered HTML reference of the same OpenAPI 3.1 document as `/openapi.json`
 * (every operation: method, path, summary, parameters, request body schema, responses). No scripts and
 * no external resources; its own CSP allows inline styles only ({@link DOCS_CSP}, kept by
 * ../security-headers.ts). All text from the document is HTML-escaped.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../context.ts";
import type { App } from "../shared.ts";

export const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

/** Minimal shapes of the OpenAPI objects rendered here. */
type Schema = { $ref?: string; type?: unknown; [k: string]: unknown };
type Parameter = { name?: string; in?: string; required?: boolean; description?: string; schema?: Schema; $ref?: string };
type Content = Record<string, { schema?: Schema } | undefined>;
type Operation = {
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Content; required?: boolean };
  responses?: Record<string, { description?: string; content?: Content } | undefined>;
  security?: unknown[];
};
type Doc = { info?: { title?: string; version?: string; description?: string }; paths?: Record<string, Record<string, unknown> | undefined> };

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function schemaName(schema: Schema | undefined): string {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.replace(/^#\/components\/schemas\//, "");
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  return typeof schema.type === "string" ? schema.type : "object";
}

function contentList(content: Content | undefined): string {
  if (!content) return "";
  return Object.entries(content)
    .map(([type, media]) => `<code>${escapeHtml(type)}</code> ${escapeHtml(schemaName(media?.schema))}`)
    .join("; ");
}

function renderOperation(path: string, method: string, op: Operation): string {
  const params = (op.parameters ?? [])
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${escapeHtml(schemaName(p.schema))}</td>` +
        `<td>${p.required ? "yes" : "no"}</td><td>${escapeHtml(p.description)}</td></tr>`,
    )
    .join("");
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => `<tr><td>${escapeHtml(status)}</td><td>${escapeHtml(r?.description)}</td><td>${contentList(r?.content)}</td></tr>`)
    .join("");
  return [
    `<section><h3><span class="m">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>`,
    op.summary ? `<p><strong>${escapeHtml(op.summary)}</strong></p>` : "",
    op.description ? `<p>${escapeHtml(op.description)}</p>` : "",
    op.security?.length ? `<p>Requires a bearer token.</p>` : "",
    params ? `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr>${params}</table>` : "",
    op.requestBody ? `<h4>Request body</h4><p>${contentList(op.requestBody.content)}</p>` : "",
    responses ? `<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Content</th></tr>${responses}</table>` : "",
    `</section>`,
  ].join("");
}

/** Renders the reference page of an OpenAPI document. */
export function renderDocs(doc: Doc): string {
  const sections: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method] as Operation | undefined;
      if (op) sections.push(renderOperation(path, method, op));
    }
  }
  const title = `${doc.info?.title ?? "API"} ${doc.info?.version ?? ""}`.trim();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}.m{font-family:monospace;background:#eef;padding:0 .3rem}section{border-top:1px solid #ddd;margin-top:1.5rem}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(doc.info?.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
${sections.join("\n")}
</body></html>`;
}

export function registerDocs(app: App, documentConfig: (c: Context<AppEnv>) => Parameters<App["getOpenAPI31Document"]>[0]) {
  app.get("/docs", (c) => {
    const html = renderDocs(app.getOpenAPI31Document(documentConfig(c)) as Doc);
    c.header("content-security-policy", DOCS_CSP);
    return c.html(html);
  });
}
