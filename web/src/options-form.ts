/**
 * The extraction options of an upload (schema/extraction-options.ts, `POST /v1/videos` `options`): mode
 * (keyframes, every N seconds, scene changes, given timestamps), image format, largest width, and under
 * "More options" quality, largest height, image limit, time window, accuracy and scene threshold. The labels
 * are typed against the schema's types, so a mode or format added there fails the build until it is shown
 * here. The form only checks that numbers are numbers; the bounds are the schema's, applied by the API (400
 * naming the field, shown as is).
 */
import type { ExtractionOptions, ImageFormat } from "../../schema/extraction-options.ts";
import { h } from "./dom.ts";

type Mode = ExtractionOptions["mode"];
/** The fields every mode accepts (schema/extraction-options.ts `commonFields`). */
type Common = Pick<ExtractionOptions, "format" | "quality" | "maxWidth" | "maxHeight" | "maxImages" | "startSeconds" | "endSeconds">;
type Accuracy = NonNullable<Extract<ExtractionOptions, { mode: "interval" }>["accuracy"]>;

/** The choices of the three selects and their labels. */
const LABELS = {
  mode: {
    keyframes: "One image per keyframe (fastest)",
    interval: "One image every N seconds",
    scene: "One image per scene change",
    timestamps: "Images at given times",
  },
  format: { jpeg: "JPEG", png: "PNG (lossless, larger)", webp: "WebP (smaller)" },
  accuracy: { exact: "Exact frame at each time", keyframe: "Nearest keyframe (much faster)" },
} as const satisfies { mode: Record<Mode, string>; format: Record<ImageFormat, string>; accuracy: Record<Accuracy, string> };

/** A select of `labels`' keys, shown by their labels. */
function select(id: string, name: keyof typeof LABELS): HTMLSelectElement {
  return h("select", { id, name }, ...Object.entries(LABELS[name]).map(([value, label]) => h("option", { value }, label)));
}

export interface OptionsForm {
  element: HTMLFieldSetElement;
  /** Shows the fields of the selected mode (call after the form was reset). */
  refresh(): void;
  /** @returns the options, or a message naming the invalid field */
  read(): { ok: true; options: ExtractionOptions } | { ok: false; message: string; field: HTMLElement };
}

let uid = 0;

/** Builds the options fieldset. */
export function optionsForm(): OptionsForm {
  const id = (name: string) => `opt-${name}-${++uid}`;
  const modeId = id("mode");
  const mode = select(modeId, "mode");
  const intervalId = id("interval");
  const interval = h("input", { id: intervalId, name: "intervalSeconds", type: "number", min: 0.1, max: 3600, step: "any", value: 10, inputmode: "decimal" });
  const timesId = id("times");
  const times = h("input", { id: timesId, name: "timestampsSeconds", type: "text", placeholder: "0, 12.5, 60", inputmode: "decimal", "aria-describedby": `${timesId}-hint` });
  const formatId = id("format");
  const format = select(formatId, "format");
  const widthId = id("width");
  const maxWidth = h("input", { id: widthId, name: "maxWidth", type: "number", min: 16, max: 16384, step: 1, placeholder: "original", inputmode: "numeric", "aria-describedby": `${widthId}-hint` });

  // "More options": the remaining common fields and the mode-specific ones.
  const num = (name: string, attrs: Record<string, string | number>) => {
    const input = h("input", { id: id(name), name, type: "number", inputmode: "decimal", ...attrs });
    return input;
  };
  const quality = num("quality", { min: 1, max: 100, step: 1, placeholder: "default" });
  const maxHeight = num("maxHeight", { min: 16, max: 16384, step: 1, placeholder: "original" });
  const maxImages = num("maxImages", { min: 1, max: 10000, step: 1, placeholder: "no limit" });
  const start = num("startSeconds", { min: 0, step: "any", placeholder: "0" });
  const end = num("endSeconds", { min: 0, step: "any", placeholder: "the end" });
  const sceneThreshold = num("sceneThreshold", { min: 0, max: 1, step: 0.05, placeholder: "0.3" });
  const accuracyId = id("accuracy");
  const accuracy = select(accuracyId, "accuracy");
  const field = (input: HTMLElement, label: string, hint?: string) =>
    h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint && h("small", {}, hint));
  const qualityRow = field(quality, "Quality (1–100)", "JPEG and WebP; higher is better and larger");
  const sceneRow = field(sceneThreshold, "Scene threshold (0–1)", "Lower finds more scene changes");
  const accuracyRow = field(accuracy, "Accuracy");
  const more = h(
    "details",
    { class: "more-options" },
    h("summary", {}, "More options"),
    h(
      "div",
      { class: "options-grid" },
      qualityRow,
      field(maxHeight, "Largest height (px)"),
      field(maxImages, "At most N images"),
      field(start, "From (seconds)"),
      field(end, "Until (seconds)"),
      accuracyRow,
      sceneRow,
    ),
  );

  const intervalRow = h("div", { class: "field" }, h("label", { for: intervalId }, "Seconds between images"), interval);
  const timesRow = h(
    "div",
    { class: "field" },
    h("label", { for: timesId }, "Times (seconds)"),
    times,
    h("small", { id: `${timesId}-hint` }, "Comma-separated, e.g. 0, 12.5, 60"),
  );
  const sync = () => {
    intervalRow.hidden = mode.value !== "interval";
    timesRow.hidden = mode.value !== "timestamps";
    accuracyRow.hidden = mode.value !== "interval" && mode.value !== "timestamps";
    sceneRow.hidden = mode.value !== "scene";
    qualityRow.hidden = format.value === "png";
  };
  mode.addEventListener("change", sync);
  format.addEventListener("change", sync);
  sync();

  const element = h(
    "fieldset",
    { class: "options" },
    h("legend", {}, "Extraction options"),
    h("div", { class: "field" }, h("label", { for: modeId }, "Images"), mode),
    intervalRow,
    timesRow,
    h("div", { class: "field" }, h("label", { for: formatId }, "Format"), format),
    h(
      "div",
      { class: "field" },
      h("label", { for: widthId }, "Largest width (px)"),
      maxWidth,
      h("small", { id: `${widthId}-hint` }, "Empty keeps the video's size"),
    ),
    more,
  );

  return {
    element,
    refresh: sync,
    read() {
      const common: Common = {};
      if (format.value !== "jpeg") common.format = format.value as ImageFormat;
      // Only "is it a number" here: the bounds are the schema's, checked by the API (400 naming the field,
      // shown by describeError), so they are not written twice.
      const fields: [keyof Common, HTMLInputElement, string][] = [
        ["maxWidth", maxWidth, "Largest width"],
        ["maxHeight", maxHeight, "Largest height"],
        ["maxImages", maxImages, "At most N images"],
        ["startSeconds", start, "From"],
        ["endSeconds", end, "Until"],
      ];
      if (format.value !== "png") fields.push(["quality", quality, "Quality"]);
      for (const [key, input, label] of fields) {
        if (!input.value.trim()) continue;
        const n = Number(input.value);
        if (!Number.isFinite(n)) return { ok: false, message: `${label} must be a number.`, field: input };
        (common as Record<string, number>)[key] = n;
      }
      const exactness = accuracy.value === "keyframe" ? { accuracy: "keyframe" as const } : {};
      const m = mode.value as Mode;
      if (m === "interval") {
        const n = Number(interval.value);
        if (!interval.value.trim() || !Number.isFinite(n)) return { ok: false, message: "Seconds between images must be a number.", field: interval };
        return { ok: true, options: { mode: "interval", intervalSeconds: n, ...exactness, ...common } };
      }
      if (m === "timestamps") {
        const values = times.value.split(/[\s,;]+/).filter(Boolean).map(Number);
        if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
          return { ok: false, message: "Times must be numbers of seconds, separated by commas.", field: times };
        }
        return { ok: true, options: { mode: "timestamps", timestampsSeconds: values, ...exactness, ...common } };
      }
      if (m === "scene") {
        const t = sceneThreshold.value.trim() ? Number(sceneThreshold.value) : undefined;
        if (t !== undefined && !Number.isFinite(t)) return { ok: false, message: "The scene threshold must be a number.", field: sceneThreshold };
        return { ok: true, options: { mode: "scene", ...(t !== undefined ? { sceneThreshold: t } : {}), ...common } };
      }
      return { ok: true, options: { mode: m, ...common } };
    },
  };
}
