/**
 * The "Renditions" section of a video's page: a form asking for a transcode (MP4 / WebM files at chosen
 * heights, an HLS ladder, trim, quality, audio; `POST /v1/videos/{id}/transcodes`), and one card per transcode
 * of the video (`GET /v1/videos/{id}/transcodes`, polled with backoff while one is not final: 0.5 s ×1.5 up to
 * 5 s, like the extraction) with its status, progress, speed (× real time) and ETA, Retry and Delete, and once
 * done its outputs: MP4/WebM play in a `<video>` from their presigned URL and download through it; HLS plays
 * natively where the browser can (Safari, recent Chromium), and its tokenized playlist link is always shown
 * (the dashboard ships no HLS library). A card is rebuilt only when its status or attempt changes, so a
 * playing video is not reset by polling. The form checks only that heights are numbers; the bounds are the
 * schema's (schema/transcode-options.ts), applied by the API (400 naming the field, shown as is).
 */
import { backoffDelay } from "../../../runtime/backoff.ts";
import { formatEta, sleep, TRANSCODE_FINAL_STATUSES, unwrap, type Schemas, type Transcode, type TranscodeRequest } from "../../../client/src/index.ts";
import { api, describeError } from "../api.ts";
import { announce, formatBytes, formatTime, formatTimestamp, h, replace } from "../dom.ts";

type Rendition = Schemas["Rendition"];
type Height = Schemas["RenditionHeight"];
type Quality = Schemas["TranscodeQuality"];

export const TRANSCODE_STATUS_LABELS = {
  TRANSCODE_PENDING: "Waiting for upload",
  TRANSCODE_QUEUED: "Queued",
  TRANSCODE_PROCESSING: "Transcoding",
  TRANSCODE_SUCCESS: "Done",
  TRANSCODE_ERROR: "Failed",
} as const satisfies Record<Transcode["status"], string>;

/** Format choices of the form, typed against the schema's formats. */
const FORMATS = {
  mp4: { name: "MP4", label: "MP4 (H.264 + AAC)", hint: "one file per height; empty: the source's height" },
  webm: { name: "WebM", label: "WebM (VP9 + Opus)", hint: "one file per height; empty: the source's height" },
  hls: { name: "HLS", label: "HLS ladder (streaming)", hint: "one variant per height; empty: 1080/720/480/360 up to the source" },
} as const satisfies Record<Rendition["format"], { name: string; label: string; hint: string }>;

/** The progress line of a running transcode: `42 % · 2.3× real time · 0:12 left`. */
export function transcodeProgressText(t: Pick<Transcode, "status" | "progress" | "speed" | "etaSeconds">): string {
  if (t.status === "TRANSCODE_QUEUED") return "Waiting for the processor…";
  if (t.status === "TRANSCODE_PENDING") return "Starts when the upload is complete.";
  const parts = [`${Math.round((t.progress ?? 0) * 100)} %`];
  if (t.speed !== null) parts.push(`${t.speed.toFixed(t.speed < 10 ? 1 : 0)}× real time`);
  if (t.etaSeconds !== null) parts.push(`${formatEta(t.etaSeconds)} left`);
  return parts.join(" · ");
}

/** `MP4 720p, HLS 720/480p · 10–70 s`: what a transcode asked. */
export function describeTranscodeRequest(r: TranscodeRequest): string {
  const parts = r.renditions.map((x) =>
    x.format === "hls" ? `HLS ${x.heights ? `${x.heights.join("/")}p` : "ladder"}` : `${FORMATS[x.format].name} ${x.height !== undefined ? `${x.height}p` : "source"}`,
  );
  const trim = r.startSeconds !== undefined || r.endSeconds !== undefined ? ` · ${r.startSeconds ?? 0}–${r.endSeconds ?? "end"} s` : "";
  return parts.join(", ") + trim;
}

/**
 * Parses the heights field: `720, 480` or `720p 480p`.
 * @returns the heights (empty when the field is empty), or null when a part is not a whole number
 */
export function parseHeights(text: string): Height[] | null {
  const parts = text.split(/[\s,]+/).map((p) => p.replace(/p$/i, "")).filter((p) => p !== "");
  if (parts.some((p) => !/^\d+$/.test(p))) return null;
  return parts.map((p) => Number(p) as Height);
}

let uid = 0;

/** The request form. @returns its element and a reader of the request (or the field in error) */
function transcodeForm(): { element: HTMLFormElement; read(): { ok: true; request: TranscodeRequest } | { ok: false; message: string; field: HTMLElement } } {
  const id = (name: string) => `tc-${name}-${++uid}`;
  const rows = (Object.keys(FORMATS) as Rendition["format"][]).map((format) => {
    const checkId = id(format);
    const heightsId = id(`${format}-heights`);
    const check = h("input", { type: "checkbox", id: checkId, name: format, checked: format === "mp4" });
    const heights = h("input", {
      id: heightsId,
      name: `${format}Heights`,
      type: "text",
      inputmode: "numeric",
      placeholder: format === "hls" ? "720, 480" : "720",
      value: format === "mp4" ? "720" : "",
      "aria-describedby": `${heightsId}-hint`,
    });
    const element = h(
      "div",
      { class: "rendition-row" },
      h("div", { class: "check" }, check, h("label", { for: checkId }, FORMATS[format].label)),
      h("div", { class: "field" }, h("label", { for: heightsId }, `${FORMATS[format].name} heights (px)`), heights, h("small", { id: `${heightsId}-hint` }, FORMATS[format].hint)),
    );
    return { format, check, heights, element };
  });
  const num = (name: string, label: string, attrs: Record<string, string | number>) => {
    const inputId = id(name);
    const input = h("input", { id: inputId, name, type: "number", inputmode: "decimal", min: 0, step: "any", ...attrs });
    return { input, element: h("div", { class: "field" }, h("label", { for: inputId }, label), input) };
  };
  const start = num("startSeconds", "Start (s)", { placeholder: "0" });
  const end = num("endSeconds", "End (s)", { placeholder: "the end" });
  const qualityId = id("quality");
  const quality = h(
    "select",
    { id: qualityId, name: "quality" },
    h("option", { value: "medium" }, "Medium"),
    h("option", { value: "low" }, "Low (smallest)"),
    h("option", { value: "high" }, "High"),
  );
  const audioId = id("no-audio");
  const noAudio = h("input", { type: "checkbox", id: audioId, name: "noAudio" });
  const upscaleId = id("upscale");
  const upscale = h("input", { type: "checkbox", id: upscaleId, name: "upscale" });
  const element = h(
    "form",
    { class: "card transcode-form", "aria-label": "Make renditions", novalidate: true },
    h("fieldset", { class: "options" }, h("legend", {}, "Formats"), ...rows.map((r) => r.element)),
    h(
      "fieldset",
      { class: "options" },
      h("legend", {}, "How"),
      start.element,
      end.element,
      h("div", { class: "field" }, h("label", { for: qualityId }, "Quality"), quality),
      h("div", {}, h("div", { class: "check" }, noAudio, h("label", { for: audioId }, "No audio")), h("div", { class: "check" }, upscale, h("label", { for: upscaleId }, "Heights above the source: make them at the source's height"))),
    ),
  );
  return {
    element,
    read() {
      const q = quality.value as Quality;
      const encoder = { ...(q !== "medium" ? { quality: q } : {}), ...(noAudio.checked ? { audio: false } : {}) };
      const renditions: Rendition[] = [];
      for (const r of rows) {
        if (!r.check.checked) continue;
        const heights = parseHeights(r.heights.value);
        if (!heights) return { ok: false, message: `${FORMATS[r.format].name} heights: whole numbers like 720, 480.`, field: r.heights };
        if (r.format === "hls") renditions.push({ format: "hls", ...(heights.length ? { heights } : {}), ...encoder });
        else if (heights.length === 0) renditions.push({ format: r.format, ...encoder });
        else for (const height of heights) renditions.push({ format: r.format, height, ...encoder });
      }
      if (renditions.length === 0) return { ok: false, message: "Choose at least one format.", field: rows[0]!.check };
      const seconds = (input: HTMLInputElement) => (input.value.trim() === "" ? undefined : Number(input.value));
      for (const input of [start.input, end.input]) {
        const v = seconds(input);
        if (v !== undefined && !Number.isFinite(v)) return { ok: false, message: "Start and end are numbers of seconds.", field: input };
      }
      const s = seconds(start.input);
      const e = seconds(end.input);
      return {
        ok: true,
        request: { renditions, ...(s !== undefined ? { startSeconds: s } : {}), ...(e !== undefined ? { endSeconds: e } : {}), ...(upscale.checked ? { upscale: true } : {}) },
      };
    },
  };
}

/** `2 files + HLS (1 variant)`: what a finished transcode made. */
export function outputCount(t: Pick<Transcode, "outputs">): string {
  const files = t.outputs.filter((o) => o.format !== "hls").length;
  const variants = t.outputs.filter((o) => o.format === "hls" && o.rendition !== "hls").length;
  const parts = [];
  if (files) parts.push(`${files} file${files === 1 ? "" : "s"}`);
  if (variants) parts.push(`HLS (${variants} variant${variants === 1 ? "" : "s"})`);
  return parts.join(" + ") || "no outputs";
}

/** Whether this browser plays HLS in a plain `<video>` (Safari, recent Chromium); else only the link is offered. */
function playsHlsNatively(): boolean {
  return document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";
}

/** The outputs of a finished transcode: players, facts and download links. */
function outputsView(t: Transcode): HTMLElement {
  const files = t.outputs.filter((o) => o.format !== "hls");
  const items = files.map((o) => {
    const label = `${o.rendition} · ${o.width ?? "?"}×${o.height ?? "?"} · ${o.durationSeconds !== null ? formatTimestamp(o.durationSeconds) : "–"} · ${formatBytes(o.sizeBytes)}${
      o.bitrateKbps !== null ? ` · ${Math.round(o.bitrateKbps)} kbit/s` : ""
    }${o.hasAudio ? "" : " · no audio"}`;
    return h(
      "li",
      { class: "output", "data-rendition": o.rendition },
      h("video", { controls: true, preload: "metadata", src: o.url, "aria-label": `Play ${o.rendition}`, width: o.width ?? 320, height: o.height ?? 180 }),
      h("p", {}, label),
      h("a", { class: "button secondary", href: o.url, download: "", "aria-label": `Download ${o.rendition}` }, `Download ${o.rendition}`),
    );
  });
  const master = t.outputs.find((o) => o.rendition === "hls");
  if (master) {
    const variants = t.outputs.filter((o) => o.format === "hls" && o.rendition !== "hls");
    const native = playsHlsNatively();
    items.push(
      h(
        "li",
        { class: "output", "data-rendition": "hls" },
        // crossorigin: Chromium's own HLS player fetches segments of another origin (the presigned storage) only in
        // CORS mode; the storage's CORS rules allow the dashboard's origin, as for the ZIP reads.
        native ? h("video", { controls: true, preload: "metadata", crossorigin: "anonymous", src: master.url, "aria-label": "Play hls" }) : null,
        h("p", {}, `HLS · ${variants.map((v) => `${v.height}p`).join(", ")} · ${formatBytes(variants.reduce((n, v) => n + v.sizeBytes, 0))}`),
        h(
          "p",
          { class: "break" },
          h("a", { href: master.url, "data-testid": "hls-link" }, "HLS playlist"),
          native ? " (plays here; also in Safari, VLC, ffplay)" : " (this browser does not play HLS by itself: open it in Safari, VLC or ffplay)",
        ),
      ),
    );
  }
  return h("ul", { class: "outputs" }, ...items);
}

/**
 * Builds the section for video `videoId`.
 * @param signal aborted when the page is left (stops polling)
 * @param onChange called when a transcode appears, goes, or changes status or attempt (the page's timeline reloads)
 * @returns the element and `refresh()` (reads the list again and polls while a transcode runs)
 */
export function transcodesSection(videoId: string, signal: AbortSignal, onChange: () => void = () => {}): { element: HTMLElement; refresh(): void } {
  const form = transcodeForm();
  const submit = h("button", { type: "submit", class: "primary" }, "Make renditions");
  const error = h("p", { class: "error-text", role: "alert", id: `tc-error-${++uid}` });
  form.element.append(h("div", { class: "actions" }, submit), error);
  const state = h("p", { class: "muted", "aria-live": "polite" });
  const list = h("ul", { class: "transcode-list", "aria-label": "Transcodes" });
  const element = h("section", { "aria-labelledby": "renditions-title" }, h("h2", { id: "renditions-title" }, "Renditions"), form.element, state, list);
  /** Card of each transcode, with the status/attempt it was built for. */
  const cards = new Map<string, { key: string; element: HTMLElement; update(t: Transcode): void }>();
  let statuses = ""; // every transcode's id, status and attempt at the last read, for onChange

  function card(t: Transcode) {
    const badge = h("span", { class: "badge", "data-testid": "transcode-status" });
    const progress = h("progress", { max: 100, value: 0, "aria-label": "Transcode progress" });
    const detail = h("span", { class: "status-detail", "data-testid": "transcode-detail" });
    const retry = h("button", { type: "button", class: "secondary", hidden: t.status !== "TRANSCODE_ERROR" }, "Retry");
    const del = h("button", { type: "button", class: "danger" }, "Delete");
    retry.setAttribute("aria-label", `Retry transcode ${describeTranscodeRequest(t.request)}`);
    del.setAttribute("aria-label", `Delete transcode ${describeTranscodeRequest(t.request)}`);
    const element = h(
      "li",
      { class: "card transcode", "data-transcode-id": t.id },
      h("p", { class: "transcode-title" }, h("strong", {}, describeTranscodeRequest(t.request)), h("span", { class: "muted" }, ` · asked ${formatTime(t.createdAt)}`)),
      h("div", { class: "status-slot" }, badge, h("div", { class: "status-line" }, progress, detail)),
      t.status === "TRANSCODE_SUCCESS" ? outputsView(t) : null,
      h("div", { class: "actions" }, retry, del),
    );
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      try {
        unwrap(await api.POST("/v1/videos/{id}/transcodes/{tid}/retry", { params: { path: { id: videoId, tid: t.id } } }));
        announce("Retrying the transcode.");
        refresh();
      } catch (err) {
        retry.disabled = false;
        alert(describeError(err));
      }
    });
    del.addEventListener("click", async () => {
      if (!confirm("Delete this transcode? Its files are deleted for good.")) return;
      try {
        unwrap(await api.DELETE("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id: videoId, tid: t.id } } }));
        announce("Transcode deleted.");
        refresh();
      } catch (err) {
        alert(describeError(err));
      }
    });
    const update = (s: Transcode) => {
      element.dataset.status = s.status;
      badge.textContent = TRANSCODE_STATUS_LABELS[s.status];
      badge.dataset.status = s.status;
      const running = s.status === "TRANSCODE_QUEUED" || s.status === "TRANSCODE_PROCESSING";
      progress.classList.toggle("invisible", !running);
      if (running && s.progress !== null) progress.value = Math.round(s.progress * 100);
      else if (running) progress.removeAttribute("value");
      detail.classList.toggle("error-text", s.status === "TRANSCODE_ERROR");
      detail.title = s.status === "TRANSCODE_ERROR" ? (s.errorDescription ?? "") : "";
      detail.textContent =
        s.status === "TRANSCODE_ERROR"
          ? (s.errorMessage ?? "The transcode failed.")
          : s.status === "TRANSCODE_SUCCESS"
            ? `${outputCount(s)}${s.elapsedSeconds !== null ? ` · encoded in ${s.elapsedSeconds.toFixed(1)} s` : ""}`
            : transcodeProgressText(s);
    };
    update(t);
    return { key: `${t.status === "TRANSCODE_SUCCESS" || t.status === "TRANSCODE_ERROR" ? t.status : "running"}:${t.attempt}`, element, update };
  }

  function show(transcodes: Transcode[]) {
    state.textContent = transcodes.length ? "" : "No renditions yet.";
    const next = transcodes.map((t) => {
      const key = `${TRANSCODE_FINAL_STATUSES.includes(t.status) ? t.status : "running"}:${t.attempt}`;
      let c = cards.get(t.id);
      if (!c || c.key !== key) {
        c = card(t);
        cards.set(t.id, c);
      } else c.update(t);
      return c.element;
    });
    for (const tid of [...cards.keys()]) if (!transcodes.some((t) => t.id === tid)) cards.delete(tid);
    replace(list, ...next);
    const now = transcodes.map((t) => `${t.id}:${t.status}:${t.attempt}`).join(",");
    if (now !== statuses) {
      statuses = now;
      onChange();
    }
  }

  let polling = false;
  let again = false;
  async function poll() {
    if (polling) {
      again = true; // a change while polling: read once more after this round
      return;
    }
    polling = true;
    try {
      for (let read = 1; !signal.aborted; read++) {
        again = false;
        try {
          const page = unwrap(await api.GET("/v1/videos/{id}/transcodes", { params: { path: { id: videoId }, query: { limit: 100 } }, signal }));
          show(page.data);
          if (!again && page.data.every((t) => TRANSCODE_FINAL_STATUSES.includes(t.status))) return;
        } catch (err) {
          if (signal.aborted) return;
          state.textContent = describeError(err);
          if ((err as { status?: number }).status === 404) return;
        }
        if (again) read = 0;
        await sleep(backoffDelay(Math.max(read, 1), { base: 500, factor: 1.5, max: 5000 }), signal).catch(() => undefined);
      }
    } finally {
      polling = false;
    }
  }
  function refresh() {
    void poll();
  }

  form.element.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const read = form.read();
    if (!read.ok) {
      error.textContent = read.message;
      read.field.focus();
      return;
    }
    submit.disabled = true;
    try {
      unwrap(await api.POST("/v1/videos/{id}/transcodes", { params: { path: { id: videoId } }, body: read.request }));
      announce("Transcode started.");
      refresh();
    } catch (err) {
      error.textContent = describeError(err);
    } finally {
      submit.disabled = false;
    }
  });

  return { element, refresh };
}
