/**
 * A secret shown once (a new API key, a webhook signing secret): read-only field, Copy button, and a warning
 * that it will not be shown again.
 */
import { announce, h } from "../dom.ts";

/** @param label what the secret is, e.g. "Your new API key" */
export function secretBox(label: string, secret: string): HTMLElement {
  const id = `secret-${Math.random().toString(36).slice(2)}`;
  const input = h("input", { id, readonly: true, value: secret, class: "secret", spellcheck: "false", "data-testid": "secret" });
  const copy = h("button", { type: "button", class: "secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      announce("Copied.");
      copy.textContent = "Copied";
    } catch {
      input.select();
      announce("Select the text and copy it.");
    }
  });
  return h(
    "div",
    { class: "secret-box", role: "status" },
    h("label", { for: id }, label),
    h("div", { class: "secret-row" }, input, copy),
    h("small", {}, "Store it now: it is shown only this once."),
  );
}
