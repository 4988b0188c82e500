/**
 * Sign-in and sign-up forms (better-auth's email + password routes, ../api.ts `authenticate`). Passwords
 * need 10+ characters and must not be a common one (edge-api/src/password-policy.ts), names at most 100
 * characters without web addresses (edge-api/src/user-name.ts); the server's message is shown as is. Sign-up
 * signs in right after; the server emails a link to confirm the address (emails about videos go to
 * confirmed addresses only).
 */
import { authenticate, describeError, type User } from "../api.ts";
import { h, replace } from "../dom.ts";

/**
 * Renders the form of `mode` into `main`.
 * @param onSignedIn called with the user once better-auth set the session cookie
 */
export function renderAuth(main: HTMLElement, mode: "sign-in" | "sign-up", onSignedIn: (user: User) => void): () => void {
  const signUp = mode === "sign-up";
  const error = h("p", { class: "error-text", role: "alert", id: "auth-error" });
  const name = h("input", { id: "name", name: "name", autocomplete: "name", required: false, maxlength: 100 });
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "email", required: true, "aria-describedby": "auth-error" });
  const password = h("input", {
    id: "password",
    name: "password",
    type: "password",
    autocomplete: signUp ? "new-password" : "current-password",
    required: true,
    minlength: signUp ? 10 : undefined,
    "aria-describedby": signUp ? "password-hint auth-error" : "auth-error",
  });
  const submit = h("button", { type: "submit", class: "primary" }, signUp ? "Create account" : "Sign in");
  const form = h(
    "form",
    { class: "card auth-form", novalidate: true },
    h("h1", {}, signUp ? "Create your account" : "Sign in to vidsnap"),
    signUp && h("div", { class: "field" }, h("label", { for: "name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "email" }, "Email"), email),
    h(
      "div",
      { class: "field" },
      h("label", { for: "password" }, "Password"),
      password,
      signUp && h("small", { id: "password-hint" }, "At least 10 characters; not a common password."),
    ),
    signUp && h("p", { class: "muted" }, "We will email you a link to confirm your address: emails about your videos start once it is confirmed."),
    error,
    h("div", { class: "actions" }, submit),
    h(
      "p",
      { class: "muted" },
      signUp ? "Already have an account? " : "No account yet? ",
      h("a", { href: signUp ? "/sign-in" : "/sign-up", "data-link": true }, signUp ? "Sign in" : "Create one"),
    ),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    if (!email.value.trim() || !email.checkValidity()) {
      error.textContent = "Enter a valid email address.";
      return email.focus();
    }
    if (!password.value) {
      error.textContent = "Enter your password.";
      return password.focus();
    }
    if (signUp && password.value.length < 10) {
      error.textContent = "The password needs at least 10 characters.";
      return password.focus();
    }
    submit.disabled = true;
    try {
      onSignedIn(await authenticate(mode, { email: email.value.trim(), password: password.value, name: name.value.trim() || undefined }));
    } catch (err) {
      error.textContent = describeError(err);
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, form);
  (signUp ? name : email).focus();
  return () => undefined;
}
