/**
 * Home page: the upload panel (drag and drop or file picker, options, progress bar, cancel) and the list of
 * the user's videos with live status. The list polls `GET /v1/videos` with `If-None-Match` (an unchanged list
 * costs a 304 and no re-render): every second while a video is queued or extracting, backing off ×1.5 up to
 * 10 s while nothing changes, every 30 s once everything is final, not at all while the tab is hidden; an
 * upload, a retry or a failed poll resets or backs off the delay. Rows are updated in place (focus stays).
 * Done videos get a thumbnail (images on demand: a signed `thumbnail.webp` URL, so a plain `<img src>` works
 * with no header) that plays the video's animated preview (`animated.webp`) while the pointer is over it; the
 * signed URLs are kept across visits until shortly before they expire.
 */
import { backoffDelay } from "../../../runtime/backoff.ts";
import { signedImageUrls, unwrap, type Video } from "../../../client/src/index.ts";
import { api, describeError, listVideos } from "../api.ts";
import { announce, formatBytes, formatTime, h, replace } from "../dom.ts";
import { optionsForm } from "../options-form.ts";
import { describeOptions, isFinal, isRetryable, statusSlot, type StatusSlot } from "../status.ts";
import { ACCEPTED_EXTENSIONS, checkFile, startUpload, type UploadHandle } from "../upload.ts";
import type { Navigate } from "../router.ts";

const PAGE_SIZE = 50;
/** Most rows' image URLs kept between visits of the page (oldest dropped first). */
const MAX_THUMBS = 200;
/** Lifetime asked for the signed image URLs, seconds; they are signed again a minute before they expire. */
const IMAGE_URL_TTL_SECONDS = 3600;
/** The list's thumbnail box, twice its CSS size (112x63) for HiDPI screens, filled edge to edge. */
const THUMB_QUERY = { width: 224, height: 126, fit_mode: "crop" };
/** The hover preview: the video's first 5 s at 10 fps, as wide as the thumbnail. */
const PREVIEW_QUERY = { width: 224 };

/** Signed URLs of one row's images. */
interface RowImages {
  thumb: string;
  preview: string;
  /** Epoch ms. */
  expiresAt: number;
}
/** `${videoId}:${attempt}` → its signed image URLs; kept across visits, cleared on sign-out. */
const thumbs = new Map<string, RowImages>();

/** Forgets every signed thumbnail URL (on sign-out). */
export function clearThumbnails(): void {
  thumbs.clear();
}

interface Row {
  li: HTMLLIElement;
  slot: StatusSlot;
  thumb: HTMLElement;
  retry: HTMLButtonElement;
  video: Video;
  thumbKey?: string;
}

/** Asks the browser to confirm leaving the page (reload, close) while an upload runs. */
function warnBeforeUnload(e: BeforeUnloadEvent): void {
  e.preventDefault();
}

/** Renders the page into `main`. @returns a cleanup function (stops polling; a running upload goes on) */
export function renderVideos(main: HTMLElement, navigate: Navigate): () => void {
  const stopped = new AbortController();
  const rows = new Map<string, Row>();

  // ---- upload panel ------------------------------------------------------------------------------
  const fileInput = h("input", {
    id: "file",
    type: "file",
    name: "file",
    accept: [...ACCEPTED_EXTENSIONS.map((e) => `.${e}`), "video/*"].join(","),
    "aria-describedby": "file-hint",
  });
  const fileInfo = h("p", { class: "file-info", id: "file-info", "aria-live": "polite" }, "No file chosen.");
  const dropzone = h(
    "div",
    { class: "dropzone", "data-testid": "dropzone" },
    h("label", { for: "file", class: "dropzone-label" }, "Choose a video", h("span", { class: "muted" }, " or drop it here")),
    fileInput,
    h("small", { id: "file-hint" }, `Accepted: ${ACCEPTED_EXTENSIONS.map((e) => `.${e}`).join(" ")}`),
    fileInfo,
  );
  const options = optionsForm();
  const submit = h("button", { type: "submit", class: "primary" }, "Upload and extract");
  const progress = h("progress", { max: 100, value: 0, id: "upload-progress", "aria-label": "Upload progress" });
  const progressText = h("span", { id: "upload-text", class: "status-detail" });
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel upload");
  const uploadBox = h("div", { class: "upload-progress", "data-testid": "upload-progress", hidden: true }, progress, progressText, cancel);
  const uploadError = h("p", { class: "error-text", id: "upload-error", role: "alert" });
  // The button and the progress share one fixed-height slot: the list below does not move during an upload.
  const form = h("form", { class: "upload-form", novalidate: true }, dropzone, options.element, h("div", { class: "upload-slot" }, submit, uploadBox), uploadError);
  const showProgress = (on: boolean) => {
    uploadBox.hidden = !on;
    submit.hidden = on;
  };

  let picked: File | undefined;
  let current: UploadHandle | undefined;
  const pick = (file: File | undefined) => {
    picked = file;
    uploadError.textContent = "";
    if (!file) return void (fileInfo.textContent = "No file chosen.");
    fileInfo.textContent = `${file.name} · ${formatBytes(file.size)}`;
    try {
      checkFile(file);
    } catch (err) {
      uploadError.textContent = (err as Error).message;
    }
  };
  fileInput.addEventListener("change", () => pick(fileInput.files?.[0]));
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (e) => {
      e.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) pick(file);
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (current) return;
    uploadError.textContent = "";
    if (!picked) {
      uploadError.textContent = "Choose a video file first.";
      fileInput.focus();
      return;
    }
    try {
      checkFile(picked);
    } catch (err) {
      uploadError.textContent = (err as Error).message;
      return;
    }
    const opts = options.read();
    if (!opts.ok) {
      uploadError.textContent = opts.message;
      opts.field.focus();
      return;
    }
    const file = picked;
    submit.disabled = true;
    showProgress(true);
    progress.value = 0;
    const started = Date.now();
    current = startUpload(file, opts.options, {
      onProgress(sent, total) {
        progress.value = total ? Math.floor((sent / total) * 100) : 0;
        const secs = (Date.now() - started) / 1000;
        progressText.textContent = `${Math.floor((sent / Math.max(total, 1)) * 100)} % · ${formatBytes(sent)} of ${formatBytes(total)}${secs > 1 ? ` · ${formatBytes(sent / secs)}/s` : ""}`;
      },
      onPhase(text) {
        progressText.textContent = text;
      },
    });
    announce(`Uploading ${file.name}.`);
    window.addEventListener("beforeunload", warnBeforeUnload);
    kick();
    current.done
      .then((video) => {
        announce(`${file.name} uploaded; extracting images.`);
        form.reset();
        options.refresh();
        pick(undefined);
        showProgress(false);
        upsert(video);
      })
      .catch((err: unknown) => {
        showProgress(false);
        uploadError.textContent = describeError(err);
        announce(uploadError.textContent);
      })
      .finally(() => {
        current = undefined;
        window.removeEventListener("beforeunload", warnBeforeUnload);
        submit.disabled = false;
        if (document.activeElement === cancel || document.activeElement === document.body) submit.focus();
        kick();
      });
  });
  cancel.addEventListener("click", () => current?.cancel());

  // ---- import by URL (same extraction options as the upload above) -----------------------------------
  const urlInput = h("input", { type: "url", id: "import-url", name: "url", placeholder: "https://example.com/video.mp4", required: true, autocomplete: "off" }) as HTMLInputElement;
  const importButton = h("button", { type: "submit" }, "Import");
  const importError = h("p", { class: "error-text", id: "import-error", role: "alert" });
  const importForm = h(
    "form",
    { class: "import-form", novalidate: true, "aria-describedby": "import-hint" },
    h("label", { for: "import-url" }, "Or import from a URL"),
    h("div", { class: "import-row" }, urlInput, importButton),
    h("p", { class: "muted", id: "import-hint" }, "vidsnap downloads it (https, public addresses only) and extracts it with the options above."),
    importError,
  );
  importForm.addEventListener("submit", (e) => {
    e.preventDefault();
    importError.textContent = "";
    const url = urlInput.value.trim();
    if (!url) {
      importError.textContent = "Enter the video's URL first.";
      urlInput.focus();
      return;
    }
    const opts = options.read();
    if (!opts.ok) {
      importError.textContent = opts.message;
      opts.field.focus();
      return;
    }
    importButton.disabled = true;
    api
      .POST("/v1/videos", { body: { source: { url }, options: opts.options } })
      .then((res) => {
        const { video } = unwrap(res);
        announce(`Importing ${video.filename}.`);
        urlInput.value = "";
        upsert(video);
        kick();
      })
      .catch((err: unknown) => {
        importError.textContent = describeError(err);
        announce(importError.textContent);
        urlInput.focus();
      })
      .finally(() => {
        importButton.disabled = false;
      });
  });

  // ---- list -------------------------------------------------------------------------------------
  const listState = h("p", { class: "muted list-state", "aria-live": "polite" }, "Loading your videos…");
  const list = h("ul", { class: "video-list", "aria-label": "Videos" });
  const more = h("p", { class: "muted", hidden: true }, `Showing your ${PAGE_SIZE} newest videos; older ones stay available through the API and the CLI.`);
  const listHeading = h("h2", { id: "videos-title", tabindex: -1 }, "Your videos");

  replace(
    main,
    h("h1", { class: "visually-hidden" }, "Videos"),
    h("section", { class: "card", "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, "Upload a video"), form, importForm),
    h("section", { "aria-labelledby": "videos-title" }, listHeading, listState, list, more),
  );

  function upsert(video: Video): Row {
    let row = rows.get(video.id);
    if (!row) {
      const slot = statusSlot();
      const thumb = h("div", { class: "thumb", "aria-hidden": "true" });
      const retry = h("button", { type: "button", class: "secondary" }, "Retry");
      const del = h("button", { type: "button", class: "danger" }, "Delete");
      const link = h("a", { href: `/videos/${video.id}`, class: "video-name", "data-link": true }, video.filename);
      const meta = h("p", { class: "muted meta" });
      const li = h("li", { class: "video-row", "data-id": video.id }, thumb, h("div", { class: "video-main" }, link, meta, slot.element), h("div", { class: "row-actions" }, retry, del));
      const r: Row = { li, slot, thumb, retry, video };
      retry.addEventListener("click", () => void onRetry(r));
      del.addEventListener("click", () => void onDelete(r));
      rows.set(video.id, r);
      row = r;
    }
    // Tell screen readers when a video finishes while the page is open (not every progress step: too noisy).
    if (row.video.status !== video.status && isFinal(video.status) && !isFinal(row.video.status)) {
      announce(
        video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS"
          ? `${video.filename}: done, ${video.imageCount ?? 0} images.`
          : `${video.filename}: failed. ${video.errorMessage ?? ""}`,
      );
    }
    row.video = video;
    row.slot.update(video);
    (row.li.querySelector(".meta") as HTMLElement).textContent = `${formatBytes(video.sizeBytes)} · ${describeOptions(video.options)} · ${formatTime(video.createdAt)}`;
    row.retry.classList.toggle("invisible", !isRetryable(video.status));
    row.retry.disabled = !isRetryable(video.status);
    row.retry.setAttribute("aria-label", `Retry ${video.filename}`);
    row.li.querySelector(".danger")?.setAttribute("aria-label", `Delete ${video.filename}`);
    if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") void thumbnail(row);
    else replace(row.thumb);
    if (!row.li.isConnected) list.prepend(row.li);
    listState.textContent = "";
    return row;
  }

  async function thumbnail(row: Row) {
    const key = `${row.video.id}:${row.video.attempt}`;
    if (row.thumbKey === key) return;
    row.thumbKey = key;
    let urls = thumbs.get(key);
    if (!urls || urls.expiresAt - 60_000 < Date.now()) {
      try {
        const signed = await signedImageUrls(
          api,
          row.video.id,
          [
            { file: "thumbnail.webp", query: THUMB_QUERY },
            { file: "animated.webp", query: PREVIEW_QUERY },
          ],
          IMAGE_URL_TTL_SECONDS,
        );
        urls = { thumb: signed.urls[0]!.url, preview: signed.urls[1]!.url, expiresAt: Date.parse(signed.expiresAt) };
      } catch {
        row.thumbKey = undefined;
        return; // no thumbnail; the row still works
      }
      thumbs.set(key, urls);
      while (thumbs.size > MAX_THUMBS) thumbs.delete(thumbs.keys().next().value!);
    }
    const { thumb, preview } = urls;
    const img = h("img", { src: thumb, alt: "", width: 112, height: 63 });
    // The animated preview plays while the pointer is over the thumbnail (rendered on the first hover, then cached).
    img.addEventListener("mouseenter", () => (img.src = preview));
    img.addEventListener("mouseleave", () => (img.src = thumb));
    replace(row.thumb, img);
  }

  function render(videos: Video[]) {
    const ids = new Set(videos.map((v) => v.id));
    for (const [id, row] of rows) {
      if (!ids.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
    // Newest first, as the API answers.
    const ordered = videos.map(upsert);
    ordered.forEach((r, i) => {
      if (list.children[i] !== r.li) list.insertBefore(r.li, list.children[i] ?? null);
    });
    listState.textContent = videos.length ? "" : "No videos yet: upload one above.";
  }

  async function onRetry(row: Row) {
    row.retry.disabled = true;
    try {
      upsert(unwrap(await api.POST("/v1/videos/{id}/retry", { params: { path: { id: row.video.id } } })).video);
      announce(`Retrying ${row.video.filename}.`);
      kick();
    } catch (err) {
      row.retry.disabled = false;
      announce(describeError(err));
      alert(describeError(err));
    }
  }

  async function onDelete(row: Row) {
    if (!confirm(`Delete ${row.video.filename}? Its upload and images are deleted for good.`)) return;
    try {
      unwrap(await api.DELETE("/v1/videos/{id}", { params: { path: { id: row.video.id } } }));
      row.li.remove();
      rows.delete(row.video.id);
      if (rows.size === 0) listState.textContent = "No videos yet: upload one above.";
      announce(`${row.video.filename} deleted.`);
      listHeading.focus();
    } catch (err) {
      alert(describeError(err));
    }
  }

  // ---- polling ----------------------------------------------------------------------------------
  // Polls in a row that found the list unchanged, and that failed: each grows its own backoff.
  let quiet = 0;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling = false;
  async function poll() {
    timer = undefined;
    if (stopped.signal.aborted || polling) return;
    if (document.hidden) return; // resumed by visibilitychange
    polling = true;
    let next = 30_000;
    try {
      const { list: page, changed } = await listVideos(PAGE_SIZE, stopped.signal);
      if (changed) {
        render(page.data);
        more.hidden = page.nextCursor === null;
      }
      const active = page.data.some((v) => !isFinal(v.status) && v.status !== "VIDEO_UPLOAD_PENDING") || current !== undefined;
      quiet = changed ? 0 : quiet + 1;
      failures = 0;
      next = active ? backoffDelay(quiet + 1, { base: 1000, factor: 1.5, max: 10_000 }) : 30_000;
    } catch (err) {
      if (stopped.signal.aborted) return;
      listState.textContent = `Could not refresh the list: ${describeError(err)} Retrying…`;
      next = backoffDelay(++failures + 1, { base: 1000, max: 30_000 });
    } finally {
      polling = false;
    }
    if (!stopped.signal.aborted) timer = setTimeout(poll, next);
  }
  function kick() {
    quiet = 0;
    failures = 0;
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, 0);
  }
  const onVisible = () => {
    if (!document.hidden) kick();
  };
  document.addEventListener("visibilitychange", onVisible);
  void poll();
  void navigate; // links use the router's click handling (data-link)

  return () => {
    stopped.abort();
    if (timer) clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
    // A running upload goes on in the background (leaving the page for another view does not cancel it);
    // its video shows up in the list once completed.
  };
}
