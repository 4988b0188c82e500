/**
 * API keys (`/v1/api-keys`, schema/api-keys.ts): list (name, start of the key, created, expiry, last use),
 * create (name, optional lifetime in days, bounds checked by the API; the key is shown once) and revoke with confirmation. The API
 * only lets a signed-in session manage keys (the dashboard's cookie is one).
 */
import { unwrap, type Schemas } from "../../../client/src/index.ts";
import { api } from "../api.ts";
import { announce, formatTime, h, replace } from "../dom.ts";
import { confirmRemove, FieldProblem, loadList, onSubmit } from "./list.ts";
import { secretBox } from "./secret-box.ts";

/** Renders the page into `main`. @returns a cleanup function */
export function renderApiKeys(main: HTMLElement): () => void {
  const name = h("input", { id: "key-name", name: "name", maxlength: 32, required: true, autocomplete: "off" });
  const days = h("input", { id: "key-days", name: "expiresInDays", type: "number", min: 1, step: 1, placeholder: "never", inputmode: "numeric", "aria-describedby": "key-days-hint" });
  const error = h("p", { class: "error-text", role: "alert" });
  const created = h("div", {});
  const submit = h("button", { type: "submit", class: "primary" }, "Create key");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "new-key-title" },
    h("h2", { id: "new-key-title" }, "New API key"),
    h("div", { class: "field" }, h("label", { for: "key-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "key-days" }, "Expires after (days)"), days, h("small", { id: "key-days-hint" }, "Whole days; empty = never expires")),
    error,
    h("div", { class: "actions" }, submit),
    created,
  );
  const state = h("p", { class: "muted", "aria-live": "polite" }, "Loading…");
  const list = h("ul", { class: "plain-list", "aria-label": "API keys" });
  replace(
    main,
    h("h1", {}, "API keys"),
    h("p", { class: "muted" }, "Keys let scripts and the vidsnap CLI use the API as you: send one as ", h("code", {}, "Authorization: Bearer vsk_…"), "."),
    form,
    h("section", { "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title" }, "Your keys"), state, list),
  );

  const row = (key: Schemas["ApiKey"]) => {
    const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${key.name ?? key.start ?? "key"}` }, "Revoke");
    revoke.addEventListener("click", () =>
      confirmRemove(
        `Revoke the key ${key.name ?? ""} (${key.start ?? ""}…)? Clients using it stop working.`,
        async () => unwrap(await api.DELETE("/v1/api-keys/{id}", { params: { path: { id: key.id } } })),
        "Key revoked.",
        load,
      ),
    );
    return h(
      "li",
      { class: "plain-row" },
      h("div", {}, h("strong", {}, key.name ?? "(no name)"), " ", h("code", {}, `${key.start ?? ""}…`),
        h("p", { class: "muted meta" }, `created ${formatTime(key.createdAt)} · ${key.expiresAt ? `expires ${formatTime(key.expiresAt)}` : "never expires"} · ${key.lastUsedAt ? `last used ${formatTime(key.lastUsedAt)}` : "never used"}`)),
      revoke,
    );
  };

  const load = async () => loadList(async () => unwrap(await api.GET("/v1/api-keys")), list, state, row, "No API keys yet.");

  onSubmit(form, submit, error, async () => {
    const body: { name: string; expiresInDays?: number } = { name: name.value.trim() };
    if (!body.name) throw new FieldProblem("Give the key a name.", name);
    if (days.value.trim()) {
      const n = Number(days.value);
      if (!Number.isInteger(n) || n < 1) throw new FieldProblem("The lifetime is a whole number of days.", days);
      body.expiresInDays = n;
    }
    const res = unwrap(await api.POST("/v1/api-keys", { body }));
    form.reset();
    replace(created, secretBox(`Your new API key "${res.apiKey.name ?? ""}"`, res.key));
    announce("API key created. Store it now.");
    await load();
  });
  void load();
  return () => undefined;
}
