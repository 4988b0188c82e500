/**
 * The video page's timeline (`GET /v1/videos/{id}/events`): every status change of the video, its
 * extraction and its transcodes, newest first, as the API pages it (50 per page, "Show older" follows
 * `nextCursor`). Reloaded from the first page by `refresh()`, which the video page calls when the status or
 * attempt of the video or of one of its transcodes changes.
 */
import { unwrap, type VideoEvent } from "../../../client/src/index.ts";
import { api, describeError } from "../api.ts";
import { formatTime, h, replace } from "../dom.ts";

const PAGE_SIZE = 50;

/** "queued", "processing", "deleted", … from a status name. */
function statusWord(status: string): string {
  return status.replace(/^VIDEO_IMAGE_EXTRACTION_|^TRANSCODE_|^VIDEO_/, "").replace(/_/g, " ").toLowerCase();
}

/** One table row: time, job, attempt, change, source, message. */
function row(e: VideoEvent): HTMLTableRowElement {
  const job = e.jobKind === "transcode" ? `transcode ${e.jobId.slice(0, 8)}` : e.jobKind;
  const change = `${e.fromStatus ? statusWord(e.fromStatus) : "created"} → ${statusWord(e.toStatus)}`;
  return h(
    "tr",
    {},
    h("td", {}, h("time", { datetime: e.createdAt }, formatTime(e.createdAt))),
    h("td", { title: e.jobId || null }, job),
    h("td", {}, e.attempt),
    h("td", {}, change),
    h("td", {}, e.source),
    h("td", { class: "muted" }, e.message ?? ""),
  );
}

/** @returns the section element, and `refresh()` to reload it from the newest event */
export function timelineSection(id: string, signal: AbortSignal): { element: HTMLElement; refresh(): void } {
  const state = h("p", { class: "muted", "aria-live": "polite" });
  const body = h("tbody", {});
  const table = h(
    "table",
    { class: "timeline", hidden: true },
    h("thead", {}, h("tr", {}, ...["Time", "Job", "Attempt", "Change", "Source", "Message"].map((t) => h("th", { scope: "col" }, t)))),
    body,
  );
  const older = h("button", { type: "button", class: "secondary", hidden: true }, "Show older");
  const element = h("section", { "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Timeline"), state, table, older);
  let cursor: string | null = null;
  let loading = 0; // generation: a refresh started later wins over an older page still arriving

  async function load(from: string | null) {
    const generation = ++loading;
    try {
      const page = unwrap(
        await api.GET("/v1/videos/{id}/events", { params: { path: { id }, query: { limit: PAGE_SIZE, ...(from ? { cursor: from } : {}) } }, signal }),
      );
      if (generation !== loading) return;
      if (from) body.append(...page.data.map(row));
      else replace(body, ...page.data.map(row));
      cursor = page.nextCursor;
      older.hidden = !cursor;
      table.hidden = body.childElementCount === 0;
      state.textContent = body.childElementCount === 0 ? "Nothing recorded yet." : "";
    } catch (err) {
      if (signal.aborted || generation !== loading) return;
      state.textContent = `The timeline could not be loaded: ${describeError(err)}`;
    }
  }

  older.addEventListener("click", () => void load(cursor));
  return { element, refresh: () => void load(null) };
}
