/**
 * Client-side routes (History API). Workers static assets answer index.html for any path that is not a
 * file (`not_found_handling = "single-page-application"` in wrangler.toml), so these paths survive a reload;
 * the API's paths (/api, /v1, /openapi.json, /docs, /healthz) always reach the Worker instead.
 */
export type Route =
  | { name: "videos" }
  | { name: "video"; id: string }
  | { name: "api-keys" }
  | { name: "webhooks" }
  | { name: "sign-in" }
  | { name: "sign-up" }
  | { name: "not-found" };

export type Navigate = (path: string, opts?: { replace?: boolean }) => void;

/** The route of a path. */
export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return { name: "videos" };
  const video = /^\/videos\/([^/]+)$/.exec(path);
  if (video) return { name: "video", id: decodeURIComponent(video[1]!) };
  if (path === "/api-keys") return { name: "api-keys" };
  if (path === "/webhooks") return { name: "webhooks" };
  if (path === "/sign-in") return { name: "sign-in" };
  if (path === "/sign-up") return { name: "sign-up" };
  return { name: "not-found" };
}

/**
 * Starts routing: same-origin clicks on `a[data-link]` and back/forward call `onRoute` without a reload.
 * @returns the navigate function
 */
export function startRouter(onRoute: (route: Route) => void): Navigate {
  const navigate: Navigate = (path, opts) => {
    if (opts?.replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    onRoute(parseRoute(location.pathname));
  };
  document.addEventListener("click", (e) => {
    const a = (e.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.origin !== location.origin) return;
    e.preventDefault();
    navigate(a.pathname);
  });
  window.addEventListener("popstate", () => onRoute(parseRoute(location.pathname)));
  return navigate;
}
