/**
 * One video: its state (polled with backoff until final: 0.5 s ×1.5 up to 5 s), Retry and Delete, the
 * image grid with timestamps from the manifest (`GET /v1/videos/{id}/images`; the images themselves come
 * out of the ZIP in the browser, ../zip.ts), a lightbox (`<dialog>`: arrow keys, Escape, focus returns to
 * the image), and Download ZIP (a plain link to `/v1/videos/{id}/images.zip`: the session cookie goes
 * with it and the API redirects to the presigned archive), the storyboard scrub bar (./storyboard.ts), the
 * video's renditions (./transcodes.ts) and its timeline (./timeline.ts, reloaded whenever the status or
 * attempt of the video or of one of its transcodes changes).
 */
import { backoffDelay } from "../../../runtime/backoff.ts";
import { sleep, unwrap, type ImageList, type Video } from "../../../client/src/index.ts";
import { api, describeError } from "../api.ts";
import { announce, formatBytes, formatTime, formatTimestamp, h, replace } from "../dom.ts";
import type { Navigate } from "../router.ts";
import { describeOptions, isFinal, isRetryable, statusSlot } from "../status.ts";
import { loadArchiveImages } from "../zip.ts";
import { storyboardSection } from "./storyboard.ts";
import { timelineSection } from "./timeline.ts";
import { transcodesSection } from "./transcodes.ts";

/** Renders the page of video `id` into `main`. @returns a cleanup function */
export function renderVideo(main: HTMLElement, id: string, navigate: Navigate): () => void {
  const stopped = new AbortController();
  let urls = new Map<number, string>();
  const title = h("h1", { tabindex: -1 }, "Video");
  const slot = statusSlot();
  const facts = h("dl", { class: "facts" });
  const download = h("a", { class: "button primary", href: `/v1/videos/${encodeURIComponent(id)}/images.zip`, download: "", hidden: true }, "Download ZIP");
  const retry = h("button", { type: "button", class: "secondary", hidden: true }, "Retry");
  const del = h("button", { type: "button", class: "danger" }, "Delete");
  const gridState = h("p", { class: "muted", "aria-live": "polite" });
  const grid = h("ul", { class: "image-grid", "aria-label": "Images" });
  const lightbox = buildLightbox();
  const timeline = timelineSection(id, stopped.signal);
  const renditions = transcodesSection(id, stopped.signal, () => timeline.refresh());
  const storyboard = storyboardSection(id, stopped.signal);

  replace(
    main,
    h("p", {}, h("a", { href: "/", "data-link": true }, "← All videos")),
    h("section", { class: "card video-head" }, title, slot.element, facts, h("div", { class: "actions" }, download, retry, del)),
    storyboard.element,
    h("section", { "aria-labelledby": "images-title" }, h("h2", { id: "images-title" }, "Images"), gridState, grid),
    renditions.element,
    timeline.element,
    lightbox.dialog,
  );
  title.focus();

  let video: Video | undefined;
  let imagesFor = ""; // `${attempt}` whose images are shown
  let timelineFor = ""; // `${status}#${attempt}` the timeline was loaded at

  function show(v: Video) {
    video = v;
    title.textContent = v.filename;
    document.title = `${v.filename} · vidsnap`;
    slot.update(v);
    if (timelineFor !== `${v.status}#${v.attempt}`) {
      timelineFor = `${v.status}#${v.attempt}`;
      timeline.refresh();
    }
    const done = v.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS";
    // Images on demand need only the upload: the storyboard does not wait for the extraction.
    if (v.status !== "VIDEO_UPLOAD_PENDING") storyboard.load();
    download.hidden = !done;
    retry.hidden = !isRetryable(v.status);
    retry.disabled = !isRetryable(v.status);
    const rows: [string, string][] = [
      ["Options", describeOptions(v.options)],
      ["Size", formatBytes(v.sizeBytes)],
      ["Duration", v.durationSeconds !== null ? formatTimestamp(v.durationSeconds) : "–"],
      ["Images", v.imageCount !== null ? String(v.imageCount) : "–"],
      ["ZIP", formatBytes(v.zipSizeBytes)],
      ["Uploaded", formatTime(v.createdAt)],
      ["Finished", formatTime(v.completedAt)],
    ];
    if (isRetryable(v.status) && v.errorDescription) rows.push(["Details", v.errorDescription]);
    replace(facts, ...rows.flatMap(([k, val]) => [h("dt", {}, k), h("dd", {}, val)]));
    if (!done) {
      gridState.textContent = v.status === "VIDEO_IMAGE_EXTRACTION_ERROR" ? "No images: the extraction failed." : "The images appear here once the extraction is done.";
      clearGrid();
    } else if (imagesFor !== String(v.attempt)) {
      imagesFor = String(v.attempt);
      void loadImages();
    }
  }

  function clearGrid() {
    grid.replaceChildren();
    for (const url of urls.values()) URL.revokeObjectURL(url);
    urls = new Map();
    imagesFor = "";
  }

  async function loadImages() {
    gridState.textContent = "Loading images…";
    try {
      const list = unwrap(await api.GET("/v1/videos/{id}/images", { params: { path: { id } }, signal: stopped.signal }));
      urls = await loadArchiveImages(list, stopped.signal);
      const items = list.images.map((image, i) => {
        const caption = `#${image.index + 1} · ${formatTimestamp(image.timestampSeconds)}`;
        const url = urls.get(image.index);
        const button = h(
          "button",
          { type: "button", class: "image-button", "aria-label": `Open image ${image.index + 1} at ${formatTimestamp(image.timestampSeconds)}` },
          url ? h("img", { src: url, alt: "", loading: "lazy", width: image.width ?? 320, height: image.height ?? 180 }) : h("span", { class: "muted" }, "not in the archive"),
        );
        button.addEventListener("click", () => lightbox.open(list, urls, i, button));
        return h("li", {}, h("figure", {}, button, h("figcaption", {}, caption)));
      });
      replace(grid, ...items);
      gridState.textContent = `${list.imageCount} image${list.imageCount === 1 ? "" : "s"}.`;
    } catch (err) {
      if (stopped.signal.aborted) return;
      imagesFor = "";
      gridState.textContent = `The images could not be shown: ${describeError(err)}`;
    }
  }

  retry.addEventListener("click", async () => {
    retry.disabled = true;
    try {
      show(unwrap(await api.POST("/v1/videos/{id}/retry", { params: { path: { id } } })).video);
      announce("Retrying the extraction.");
      void poll();
    } catch (err) {
      retry.disabled = false;
      alert(describeError(err));
    }
  });
  del.addEventListener("click", async () => {
    if (!confirm(`Delete ${video?.filename ?? "this video"}? Its upload and images are deleted for good.`)) return;
    try {
      unwrap(await api.DELETE("/v1/videos/{id}", { params: { path: { id } } }));
      announce(`${video?.filename ?? "The video"} deleted.`);
      navigate("/");
    } catch (err) {
      alert(describeError(err));
    }
  });

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      for (let read = 1; !stopped.signal.aborted; read++) {
        try {
          show(unwrap(await api.GET("/v1/videos/{id}", { params: { path: { id } }, signal: stopped.signal })).video);
          if (video && (isFinal(video.status) || video.status === "VIDEO_UPLOAD_PENDING")) return;
        } catch (err) {
          if (stopped.signal.aborted) return;
          gridState.textContent = describeError(err);
          if ((err as { status?: number }).status === 404) {
            title.textContent = "Video not found";
            slot.element.hidden = true;
            del.hidden = true;
            return;
          }
        }
        await sleep(backoffDelay(read, { base: 500, factor: 1.5, max: 5000 }), stopped.signal).catch(() => undefined);
      }
    } finally {
      polling = false;
    }
  }
  void poll();
  renditions.refresh();

  return () => {
    stopped.abort();
    lightbox.dialog.close();
    clearGrid();
  };
}

/** The lightbox: a modal `<dialog>` with the image, its caption, Previous/Next/Close. */
function buildLightbox() {
  const img = h("img", { alt: "" });
  const caption = h("p", { class: "lightbox-caption", id: "lightbox-caption" });
  const prev = h("button", { type: "button", class: "secondary" }, "← Previous");
  const next = h("button", { type: "button", class: "secondary" }, "Next →");
  const close = h("button", { type: "button", class: "secondary" }, "Close");
  const dialog = h(
    "dialog",
    { class: "lightbox", "aria-labelledby": "lightbox-caption" },
    h("figure", {}, img, caption),
    h("div", { class: "actions" }, prev, next, close),
  );
  let list: ImageList | undefined;
  let urls = new Map<number, string>();
  let index = 0;
  let opener: HTMLElement | undefined;
  const render = () => {
    const image = list?.images[index];
    if (!list || !image) return;
    img.src = urls.get(image.index) ?? "";
    img.alt = `Image ${image.index + 1} of ${list.images.length}, at ${formatTimestamp(image.timestampSeconds)}`;
    caption.textContent = `Image ${image.index + 1} of ${list.images.length} · ${formatTimestamp(image.timestampSeconds)}${image.width && image.height ? ` · ${image.width}×${image.height}` : ""}`;
    prev.disabled = index === 0;
    next.disabled = index === list.images.length - 1;
  };
  const step = (d: number) => {
    if (!list) return;
    index = Math.max(0, Math.min(list.images.length - 1, index + d));
    render();
  };
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") step(-1);
    else if (e.key === "ArrowRight") step(1);
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close(); // a click on the backdrop
  });
  dialog.addEventListener("close", () => opener?.focus());
  return {
    dialog,
    open(l: ImageList, u: Map<number, string>, i: number, from: HTMLElement) {
      list = l;
      urls = u;
      index = i;
      opener = from;
      render();
      dialog.showModal();
      close.focus();
    },
  };
}
