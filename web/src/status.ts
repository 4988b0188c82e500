/**
 * How a video's state is shown: status labels, and the status slot (badge, progress bar, progress text or
 * error message) shared by the list rows and the video page. The slot always has the same height, whatever
 * the status, so rows do not move while statuses change.
 */
import type { Video } from "../../client/src/index.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { h } from "./dom.ts";

type Status = Video["status"];

export const STATUS_LABELS = {
  VIDEO_UPLOAD_PENDING: "Waiting for upload",
  VIDEO_IMAGE_EXTRACTION_QUEUED: "Queued",
  VIDEO_IMAGE_EXTRACTION_PROCESSING: "Extracting",
  VIDEO_IMAGE_EXTRACTION_SUCCESS: "Done",
  VIDEO_IMAGE_EXTRACTION_ERROR: "Failed",
  VIDEO_IMPORT_QUEUED: "Import queued",
  VIDEO_IMPORTING: "Importing",
  VIDEO_IMPORT_ERROR: "Import failed",
  VIDEO_GENERATION_PENDING: "Generating",
  VIDEO_GENERATION_ERROR: "Generation failed",
} as const satisfies Record<Status, string>;

/** Statuses after which a video changes only when the user acts (retry, delete). */
export function isFinal(status: Status): boolean {
  return (
    status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ||
    status === "VIDEO_IMAGE_EXTRACTION_ERROR" ||
    status === "VIDEO_IMPORT_ERROR" ||
    status === "VIDEO_GENERATION_ERROR"
  );
}

/** True for the statuses a user can retry (a failed extraction or import). */
export function isRetryable(status: Status): boolean {
  return status === "VIDEO_IMAGE_EXTRACTION_ERROR" || status === "VIDEO_IMPORT_ERROR";
}

/** `12.5 of 40.0 MB` (or `12.5 MB` while the total is unknown): an import's progress in bytes. */
export function importProgressText(v: Pick<Video, "importedBytes" | "importTotalBytes">): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const done = v.importedBytes ?? 0;
  return v.importTotalBytes ? `${mb(done)} of ${mb(v.importTotalBytes)} MB` : `${mb(done)} MB`;
}

/** Short text of the extraction options, e.g. "every 10 s · webp · ≤ 640 px". */
export function describeOptions(o: ExtractionOptions): string {
  const parts: string[] = [];
  if (o.mode === "keyframes") parts.push("keyframes");
  else if (o.mode === "interval") parts.push(`every ${o.intervalSeconds} s`);
  else if (o.mode === "scene") parts.push("scene changes");
  else parts.push(`${o.timestampsSeconds.length} timestamp${o.timestampsSeconds.length === 1 ? "" : "s"}`);
  parts.push(o.format ?? "jpeg");
  if (o.maxWidth) parts.push(`≤ ${o.maxWidth} px wide`);
  return parts.join(" · ");
}

export interface StatusSlot {
  element: HTMLElement;
  update(video: Video): void;
}

/** The badge + progress/error slot of one video. */
export function statusSlot(): StatusSlot {
  const badge = h("span", { class: "badge", "data-testid": "status" });
  const progress = h("progress", { max: 100, value: 0, "aria-label": "Extraction progress" });
  const detail = h("span", { class: "status-detail", "data-testid": "status-detail" });
  const element = h("div", { class: "status-slot" }, badge, h("div", { class: "status-line" }, progress, detail));
  return {
    element,
    update(v) {
      element.dataset.status = v.status;
      badge.textContent = STATUS_LABELS[v.status];
      badge.dataset.status = v.status;
      const showBar =
        v.status === "VIDEO_IMAGE_EXTRACTION_QUEUED" ||
        v.status === "VIDEO_IMAGE_EXTRACTION_PROCESSING" ||
        v.status === "VIDEO_IMPORT_QUEUED" ||
        v.status === "VIDEO_IMPORTING";
      progress.classList.toggle("invisible", !showBar);
      if (showBar && v.progress !== null) progress.value = Math.round(v.progress * 100);
      else if (showBar) progress.removeAttribute("value"); // indeterminate while queued
      detail.classList.toggle("error-text", isRetryable(v.status));
      if (isRetryable(v.status)) {
        detail.textContent = v.errorMessage ?? (v.status === "VIDEO_IMPORT_ERROR" ? "The import failed." : v.status === "VIDEO_GENERATION_ERROR" ? "The generation failed." : "The extraction failed.");
        detail.title = v.errorDescription ?? "";
      } else {
        detail.title = "";
        detail.textContent =
          v.status === "VIDEO_IMAGE_EXTRACTION_PROCESSING"
            ? `${Math.round((v.progress ?? 0) * 100)} %${v.imagesSoFar !== null ? ` · ${v.imagesSoFar} image${v.imagesSoFar === 1 ? "" : "s"}` : ""}`
            : v.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS"
              ? `${v.imageCount ?? 0} image${v.imageCount === 1 ? "" : "s"}`
              : v.status === "VIDEO_IMAGE_EXTRACTION_QUEUED" || v.status === "VIDEO_IMPORT_QUEUED"
                ? "Waiting for the processor…"
                : v.status === "VIDEO_IMPORTING"
                  ? importProgressText(v)
                  : v.sourceUrl
                    ? "Starting the extraction…"
                    : "The upload was not finished.";
      }
    },
  };
}
