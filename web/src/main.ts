/**
 * Entry of the vidsnap dashboard (web/index.html): finds out who is signed in (`GET /api/auth/get-session`,
 * session cookie), routes (./router.ts) to the page views, keeps the header (navigation, account, sign-out)
 * in sync, and sends signed-out visitors to /sign-in. Each view returns a cleanup function, called when the
 * route changes (stops polling, frees blob URLs).
 */
import "./styles.css";
import { currentUser, describeError, setUnauthorizedHandler, signOut, type User } from "./api.ts";
import { h, replace } from "./dom.ts";
import { parseRoute, startRouter, type Route } from "./router.ts";
import { renderApiKeys } from "./views/api-keys.ts";
import { renderAuth } from "./views/auth.ts";
import { renderVideo } from "./views/video.ts";
import { clearThumbnails, renderVideos } from "./views/videos.ts";
import { renderWebhooks } from "./views/webhooks.ts";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const account = document.getElementById("account")!;
const accountEmail = document.getElementById("account-email")!;
const signOutButton = document.getElementById("sign-out") as HTMLButtonElement;

let user: User | null = null;
let cleanup: () => void = () => undefined;

const TITLES: Record<Route["name"], string> = {
  videos: "Videos",
  video: "Video",
  "api-keys": "API keys",
  webhooks: "Webhooks",
  "sign-in": "Sign in",
  "sign-up": "Create an account",
  "not-found": "Not found",
};

function show(route: Route) {
  cleanup();
  cleanup = () => undefined;
  const signedIn = user !== null;
  nav.hidden = !signedIn;
  account.hidden = !signedIn;
  accountEmail.textContent = user?.email ?? "";
  if (!signedIn && route.name !== "sign-in" && route.name !== "sign-up") {
    return navigate("/sign-in", { replace: true });
  }
  if (signedIn && (route.name === "sign-in" || route.name === "sign-up")) return navigate("/", { replace: true });
  document.title = `${TITLES[route.name]} · vidsnap`;
  for (const a of nav.querySelectorAll("a")) {
    const current = parseRoute(a.pathname).name === route.name || (route.name === "video" && a.pathname === "/");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  switch (route.name) {
    case "sign-in":
    case "sign-up":
      cleanup = renderAuth(main, route.name, (u) => {
        user = u;
        navigate("/");
      });
      return;
    case "videos":
      cleanup = renderVideos(main, navigate);
      break;
    case "video":
      cleanup = renderVideo(main, route.id, navigate);
      return; // the view focuses its own heading
    case "api-keys":
      cleanup = renderApiKeys(main);
      break;
    case "webhooks":
      cleanup = renderWebhooks(main);
      break;
    case "not-found":
      replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-link": true }, "Back to your videos")));
      break;
  }
  main.focus({ preventScroll: true });
}

const navigate = startRouter(show);

setUnauthorizedHandler(() => {
  if (!user) return;
  user = null;
  navigate("/sign-in", { replace: true });
});

signOutButton.addEventListener("click", async () => {
  signOutButton.disabled = true;
  try {
    await signOut();
    user = null;
    clearThumbnails();
    navigate("/sign-in");
  } catch (err) {
    alert(describeError(err));
  } finally {
    signOutButton.disabled = false;
  }
});

try {
  user = await currentUser();
} catch (err) {
  replace(main, h("p", { class: "error-text", role: "alert" }, `vidsnap is unreachable: ${describeError(err)}`));
  throw err;
}
show(parseRoute(location.pathname));
