/**
 * Webhook endpoints (`/v1/webhooks`, docs/webhooks.md): list (URL, events, state), register (URL, events,
 * description; the signing secret is shown once), send a test ping, rotate the secret, delete with
 * confirmation.
 */
import { unwrap, type Schemas } from "../../../client/src/index.ts";
import { api, describeError } from "../api.ts";
import { announce, formatTime, h, replace } from "../dom.ts";
import { confirmRemove, FieldProblem, loadList, onSubmit } from "./list.ts";
import { secretBox } from "./secret-box.ts";

type WebhookEndpoint = Schemas["WebhookEndpoint"];
type EventType = Schemas["WebhookEventType"];

const EVENT_LABELS = {
  "video.ready": "Images ready (video.ready)",
  "video.failed": "Extraction failed (video.failed)",
  "video.import_failed": "Import failed (video.import_failed)",
  "video.generation_failed": "Generation failed (video.generation_failed)",
  "transcode.ready": "Transcode ready (transcode.ready)",
  "transcode.failed": "Transcode failed (transcode.failed)",
} as const satisfies Record<EventType, string>;

/** Renders the page into `main`. @returns a cleanup function */
export function renderWebhooks(main: HTMLElement): () => void {
  const url = h("input", { id: "hook-url", name: "url", type: "url", required: true, placeholder: "https://example.com/hooks/vidsnap", autocomplete: "off" });
  const description = h("input", { id: "hook-description", name: "description", maxlength: 200, autocomplete: "off" });
  const events = Object.entries(EVENT_LABELS).map(([value, label]) => {
    const input = h("input", { type: "checkbox", name: "events", value, id: `hook-event-${value}`, checked: true });
    return { input, el: h("div", { class: "check" }, input, h("label", { for: `hook-event-${value}` }, label)) };
  });
  const error = h("p", { class: "error-text", role: "alert" });
  const secret = h("div", {});
  const submit = h("button", { type: "submit", class: "primary" }, "Add endpoint");
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "new-hook-title" },
    h("h2", { id: "new-hook-title" }, "New endpoint"),
    h("div", { class: "field" }, h("label", { for: "hook-url" }, "URL"), url),
    h("fieldset", {}, h("legend", {}, "Events"), ...events.map((e) => e.el)),
    h("div", { class: "field" }, h("label", { for: "hook-description" }, "Description (optional)"), description),
    error,
    h("div", { class: "actions" }, submit),
    secret,
  );
  const state = h("p", { class: "muted", "aria-live": "polite" }, "Loading…");
  const list = h("ul", { class: "plain-list", "aria-label": "Webhook endpoints" });
  replace(
    main,
    h("h1", {}, "Webhooks"),
    h("p", { class: "muted" }, "vidsnap POSTs a signed JSON event to your endpoints when a video's images are ready or its extraction failed."),
    form,
    h("section", { "aria-labelledby": "hooks-title" }, h("h2", { id: "hooks-title" }, "Your endpoints"), state, list),
  );

  const row = (hook: WebhookEndpoint) => {
    const test = h("button", { type: "button", class: "secondary", "aria-label": `Send a test event to ${hook.url}` }, "Send test");
    const rotate = h("button", { type: "button", class: "secondary", "aria-label": `Rotate the secret of ${hook.url}` }, "Rotate secret");
    const del = h("button", { type: "button", class: "danger", "aria-label": `Delete ${hook.url}` }, "Delete");
    const out = h("div", {});
    const path = { params: { path: { id: hook.id } } };
    test.addEventListener("click", async () => {
      try {
        const { delivery } = unwrap(await api.POST("/v1/webhooks/{id}/test", path));
        // Over the endpoint's cap of waiting deliveries the ping is recorded failed and not sent.
        if (delivery.status === "failed") {
          replace(out, h("p", { class: "error-text", role: "alert" }, `Test event not sent: ${delivery.lastError ?? "failed"}`));
          return;
        }
        announce("Test event queued.");
        replace(out, h("p", { class: "muted", role: "status" }, "Test event queued: check your endpoint."));
      } catch (err) {
        replace(out, h("p", { class: "error-text", role: "alert" }, describeError(err)));
      }
    });
    rotate.addEventListener("click", async () => {
      if (!confirm(`Rotate the signing secret of ${hook.url}? Update your receiver with the new one.`)) return;
      try {
        const res = unwrap(await api.POST("/v1/webhooks/{id}/rotate-secret", path));
        replace(out, secretBox("New signing secret", res.secret));
      } catch (err) {
        replace(out, h("p", { class: "error-text", role: "alert" }, describeError(err)));
      }
    });
    del.addEventListener("click", () =>
      confirmRemove(`Delete the endpoint ${hook.url}?`, async () => unwrap(await api.DELETE("/v1/webhooks/{id}", path)), "Endpoint deleted.", load),
    );
    return h(
      "li",
      { class: "plain-row" },
      h("div", { class: "grow" }, h("strong", { class: "break" }, hook.url),
        h("p", { class: "muted meta" }, `${hook.events.join(", ")} · ${hook.enabled ? "enabled" : "disabled"} · added ${formatTime(hook.createdAt)}${hook.description ? ` · ${hook.description}` : ""}`),
        out),
      h("div", { class: "row-actions" }, test, rotate, del),
    );
  };

  const load = async () => loadList(async () => unwrap(await api.GET("/v1/webhooks")), list, state, row, "No endpoints yet.");

  onSubmit(form, submit, error, async () => {
    const chosen = events.filter((x) => x.input.checked).map((x) => x.input.value as EventType);
    if (!url.value.trim()) throw new FieldProblem("Enter the endpoint's URL.", url);
    if (chosen.length === 0) throw new FieldProblem("Choose at least one event.", events[0]?.input);
    const body = { url: url.value.trim(), events: chosen, ...(description.value.trim() ? { description: description.value.trim() } : {}) };
    const res = unwrap(await api.POST("/v1/webhooks", { body }));
    form.reset();
    replace(secret, secretBox(`Signing secret of ${res.webhook.url}`, res.secret));
    announce("Endpoint added. Store its signing secret now.");
    await load();
  });
  void load();
  return () => undefined;
}
