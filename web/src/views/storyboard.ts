/**
 * The video page's timeline: a scrub bar over the video's duration that shows the storyboard tile of the
 * time under it (images on demand: `storyboard.json` through a signed URL gives the tiles and the sprite's
 * signed URL; the tile is the sprite as a CSS background, moved with `background-position`, so scrubbing
 * loads one image in all).
 */
import { signedImageUrls } from "../../../client/src/index.ts";
import { api, describeError } from "../api.ts";
import { formatTimestamp, h, replace } from "../dom.ts";

/** The storyboard's JSON (schema/image-options.ts `StoryboardPlan` plus the sprite `url`). */
interface Storyboard {
  url: string;
  durationSeconds: number;
  tileWidth: number;
  tileHeight: number;
  tiles: { start: number; end: number; x: number; y: number; width: number; height: number }[];
}

/** The tile whose span holds `t` (the last one past the end). */
export function tileAt(board: Pick<Storyboard, "tiles">, t: number): Storyboard["tiles"][number] {
  return board.tiles.find((tile) => t >= tile.start && t < tile.end) ?? board.tiles[board.tiles.length - 1]!;
}

/**
 * @param id the video
 * @param signal aborted when the page goes away
 * @returns the section and `load()`, to call once the video's upload is complete (later calls do nothing)
 */
export function storyboardSection(id: string, signal: AbortSignal): { element: HTMLElement; load(): void } {
  const state = h("p", { class: "muted", "aria-live": "polite" }, "The timeline appears once the upload is complete.");
  const body = h("div", { class: "storyboard" });
  const element = h("section", { "aria-labelledby": "storyboard-title" }, h("h2", { id: "storyboard-title" }, "Storyboard"), state, body);
  let loaded = false;

  async function load(): Promise<void> {
    if (loaded) return;
    loaded = true;
    state.textContent = "Loading the storyboard…";
    try {
      const { urls } = await signedImageUrls(api, id, [{ file: "storyboard.json" }], 3600);
      const res = await fetch(urls[0]!.url, { signal });
      if (!res.ok) throw new Error(`the storyboard answered ${res.status}`);
      const board = (await res.json()) as Storyboard;
      const tile = h("div", { class: "storyboard-tile", "data-testid": "storyboard-tile", role: "img", "aria-label": "Frame at 0:00" });
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      tile.style.width = `${board.tileWidth}px`;
      tile.style.height = `${board.tileHeight}px`;
      tile.style.backgroundImage = `url("${board.url}")`;
      const label = h("span", { class: "muted" }, formatTimestamp(0));
      const scrub = h("input", { type: "range", min: "0", max: String(board.durationSeconds), step: "0.1", value: "0", "aria-label": "Storyboard" });
      const showAt = (t: number) => {
        const at = tileAt(board, t);
        tile.style.backgroundPosition = `-${at.x}px -${at.y}px`;
        label.textContent = formatTimestamp(t);
        tile.setAttribute("aria-label", `Frame at ${formatTimestamp(t)}`);
      };
      scrub.addEventListener("input", () => showAt(Number(scrub.value)));
      showAt(0);
      replace(body, tile, scrub, label);
      state.textContent = `${board.tiles.length} tiles over ${formatTimestamp(board.durationSeconds)}: drag the bar.`;
    } catch (err) {
      if (signal.aborted) return;
      loaded = false;
      state.textContent = `The timeline could not be shown: ${describeError(err)}`;
    }
  }
  return { element, load: () => void load() };
}
