/**
 * Images on demand (issue 16, docs/architecture.md "Images on demand"): the query parameters of
 * `GET /v1/videos/{id}/thumbnail.{jpg,png,webp}`, `animated.{gif,webp}` and `storyboard.{jpg,webp,vtt,json}`,
 * the render request the Worker sends the processor (`POST /renders`), and the storyboard's tile plan, which
 * both sides compute from the same pure function ({@link storyboardPlan}) so the sprite and its cues agree.
 *
 * Units: times in seconds from the start of the video, sizes in pixels.
 */
import { z } from "@hono/zod-openapi";
import { KeyId, ObjectEtag } from "./messages/extract-snapshot.ts";
import { JobCredentials } from "./storage-credentials.ts";

/** Largest width or height of a rendered image, pixels (4K UHD). */
export const MAX_RENDER_SIDE = 3840;
/** Largest animated preview, seconds between `start` and `end`. */
export const MAX_ANIMATED_SECONDS = 10;
/** Highest animated preview frame rate, frames per second. */
export const MAX_ANIMATED_FPS = 30;
/** Default animated preview: 5 s at 10 fps, 480 px wide (Mux's default width is 320; 480 stays sharp on HiDPI lists). */
export const DEFAULT_ANIMATED = { seconds: 5, fps: 10, width: 480 } as const;
/** Latest accepted `time` / `start`, seconds (the processor's MAX_DURATION_SECONDS default: 4 h). */
export const MAX_RENDER_TIME_SECONDS = 14_400;

/** Thumbnail file extensions and their content types. */
export const THUMBNAIL_FORMATS = { jpg: "image/jpeg", png: "image/png", webp: "image/webp" } as const;
/** Animated preview file extensions and their content types. */
export const ANIMATED_FORMATS = { gif: "image/gif", webp: "image/webp" } as const;
/** Storyboard extensions: the sprite (jpg/webp) and its cues (vtt/json). */
export const STORYBOARD_FORMATS = {
  jpg: "image/jpeg",
  webp: "image/webp",
  vtt: "text/vtt; charset=utf-8",
  json: "application/json; charset=utf-8",
} as const;
/** Content type of every render output, by kind and format. */
export const RENDER_CONTENT_TYPES = {
  thumbnail: THUMBNAIL_FORMATS,
  animated: ANIMATED_FORMATS,
  storyboard: { jpg: STORYBOARD_FORMATS.jpg, webp: STORYBOARD_FORMATS.webp, json: STORYBOARD_FORMATS.json },
} as const;
export type ThumbnailFormat = keyof typeof THUMBNAIL_FORMATS;
export type AnimatedFormat = keyof typeof ANIMATED_FORMATS;
export type StoryboardFormat = keyof typeof STORYBOARD_FORMATS;

/** How the frame fills a `width` × `height` box (both given; with one side only every mode keeps the aspect). */
export const FitMode = z
  .enum(["preserve", "crop", "pad", "stretch"])
  .describe("`preserve` (default): inside the box, aspect kept; `crop`: fill the box, cut the overflow; `pad`: inside the box, black bars; `stretch`: exactly the box, aspect ignored.");
export type FitMode = z.infer<typeof FitMode>;

const side = (name: string) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_RENDER_SIDE)
    .optional()
    .describe(`Output ${name}, pixels (1..${MAX_RENDER_SIDE}).`)
    .openapi({ param: { name, in: "query" } });

const seconds = (name: string, description: string) =>
  z.coerce.number().min(0).max(MAX_RENDER_TIME_SECONDS).optional().describe(description).openapi({ param: { name, in: "query" } });

/** `token`: a signed URL's credential (`POST /v1/videos/{id}/image-urls`); never a bearer token. */
const token = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe("Signed URL token from `POST /v1/videos/{id}/image-urls`: opens this exact image without a bearer token until it expires.")
  .openapi({ param: { name: "token", in: "query" } });

/** Query of `thumbnail.{jpg,png,webp}`. */
export const ThumbnailQuery = z
  .object({
    time: seconds("time", "Time of the frame, seconds; the exact frame at or after it (default: the middle of the video)."),
    width: side("width"),
    height: side("height"),
    fit_mode: FitMode.default("preserve").openapi({ param: { name: "fit_mode", in: "query" } }),
    rotate: z.coerce
      .number()
      .pipe(z.union([z.literal(90), z.literal(180), z.literal(270)]))
      .optional()
      .describe("Clockwise rotation, degrees: 90, 180 or 270 (after the video's own rotation).")
      .openapi({ param: { name: "rotate", in: "query" }, type: "integer", enum: [90, 180, 270] }),
    quality: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("1..100 (jpg, webp); ignored for png, which is lossless.")
      .openapi({ param: { name: "quality", in: "query" } }),
    accuracy: z
      .enum(["exact", "keyframe"])
      .default("exact")
      .describe("`exact` (default): the exact frame at or after `time`; `keyframe`: the keyframe at or before it (faster).")
      .openapi({ param: { name: "accuracy", in: "query" } }),
    token,
  })
  .openapi("ThumbnailQuery");
export type ThumbnailQuery = z.infer<typeof ThumbnailQuery>;

/** Query of `animated.{gif,webp}`. */
export const AnimatedQuery = z
  .object({
    start: seconds("start", "Start, seconds (default 0)."),
    end: seconds("end", `End, seconds; at most ${MAX_ANIMATED_SECONDS} s after \`start\` (default start + ${DEFAULT_ANIMATED.seconds}).`),
    width: side("width"),
    height: side("height"),
    fps: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_ANIMATED_FPS)
      .default(DEFAULT_ANIMATED.fps)
      .describe(`Frames per second, 1..${MAX_ANIMATED_FPS} (default ${DEFAULT_ANIMATED.fps}).`)
      .openapi({ param: { name: "fps", in: "query" } }),
    token,
  })
  .superRefine((q, ctx) => {
    const start = q.start ?? 0;
    if (q.end !== undefined && q.end <= start) ctx.addIssue({ code: "custom", path: ["end"], message: "end must be after start" });
    if (q.end !== undefined && q.end - start > MAX_ANIMATED_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["end"], message: `end must be at most ${MAX_ANIMATED_SECONDS} s after start` });
    }
  })
  .openapi("AnimatedQuery");
export type AnimatedQuery = z.infer<typeof AnimatedQuery>;

/** Query of `storyboard.{jpg,webp,vtt,json}`: only the signed URL's token. */
export const StoryboardQuery = z.object({ token }).openapi("StoryboardQuery");

/** What one render makes (normalized: every default applied, no token), the processor's input. */
export const RenderSpec = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("thumbnail"),
    format: z.enum(["jpg", "png", "webp"]),
    /** Absent: the middle of the video (only the processor knows its duration). */
    time: z.number().min(0).max(MAX_RENDER_TIME_SECONDS).optional(),
    width: z.number().int().min(1).max(MAX_RENDER_SIDE).optional(),
    height: z.number().int().min(1).max(MAX_RENDER_SIDE).optional(),
    fit: FitMode,
    rotate: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
    quality: z.number().int().min(1).max(100).optional(),
    accuracy: z.enum(["exact", "keyframe"]),
  }),
  z.object({
    kind: z.literal("animated"),
    format: z.enum(["gif", "webp"]),
    start: z.number().min(0).max(MAX_RENDER_TIME_SECONDS),
    end: z.number().min(0).max(MAX_RENDER_TIME_SECONDS + MAX_ANIMATED_SECONDS),
    width: z.number().int().min(1).max(MAX_RENDER_SIDE).optional(),
    height: z.number().int().min(1).max(MAX_RENDER_SIDE).optional(),
    fps: z.number().int().min(1).max(MAX_ANIMATED_FPS),
  }),
  z.object({
    kind: z.literal("storyboard"),
    /** `json`: the tile plan ({@link StoryboardPlan}) from the probed duration, no image decoded. */
    format: z.enum(["jpg", "webp", "json"]),
  }),
]);
export type RenderSpec = z.infer<typeof RenderSpec>;

/** Body of the processor's `POST /renders` (signed like `POST /jobs`). */
export const RenderRequest = z.object({
  userId: KeyId,
  videoId: KeyId,
  /** The source's ETag recorded at `complete`: every read carries If-Match, as jobs do. */
  sourceEtag: ObjectEtag.optional(),
  spec: RenderSpec,
  /** Read-only credential of the source object (schema/storage-credentials.ts), minted by the Worker. */
  credentials: JobCredentials,
});
export type RenderRequest = z.infer<typeof RenderRequest>;

/** @returns the thumbnail spec of a validated query (defaults applied, token dropped) */
export function thumbnailSpec(format: ThumbnailFormat, q: ThumbnailQuery): RenderSpec {
  return {
    kind: "thumbnail",
    format,
    ...(q.time !== undefined ? { time: q.time } : {}),
    ...(q.width !== undefined ? { width: q.width } : {}),
    ...(q.height !== undefined ? { height: q.height } : {}),
    fit: q.fit_mode,
    rotate: q.rotate ?? 0,
    // PNG is lossless: a quality would only split the cache.
    ...(q.quality !== undefined && format !== "png" ? { quality: q.quality } : {}),
    accuracy: q.accuracy,
  };
}

/** @returns the animated spec of a validated query (defaults applied: start 0, end start + 5 s, width 480 when no size) */
export function animatedSpec(format: AnimatedFormat, q: AnimatedQuery): RenderSpec {
  const start = q.start ?? 0;
  const noSize = q.width === undefined && q.height === undefined;
  return {
    kind: "animated",
    format,
    start,
    end: q.end ?? start + DEFAULT_ANIMATED.seconds,
    ...(noSize ? { width: DEFAULT_ANIMATED.width } : {}),
    ...(q.width !== undefined ? { width: q.width } : {}),
    ...(q.height !== undefined ? { height: q.height } : {}),
    fps: q.fps,
  };
}

/**
 * Canonical text of a spec: keys sorted, so two requests asking the same image give the same text (the
 * cache key and the signed URL scope are built from it).
 */
export function canonicalSpec(spec: RenderSpec): string {
  const entries = Object.entries(spec).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${String(v)}`).join("&");
}

/** Storyboard tiles: one per this many seconds of video … */
export const STORYBOARD_SECONDS_PER_TILE = 2;
/** … at most this many (a 10 × 10 sprite) … */
export const STORYBOARD_MAX_TILES = 100;
/** … in rows of at most this many. */
export const STORYBOARD_COLUMNS = 10;
/** Tile width, pixels (Mux and Video.js thumbnails use 160–256; 160 keeps a 100-tile sprite under 1600 px wide). */
export const STORYBOARD_TILE_WIDTH = 160;

/** One storyboard tile and the span of the video it stands for. */
export const StoryboardTile = z.object({
  start: z.number().describe("Start of the span, seconds."),
  end: z.number().describe("End of the span, seconds."),
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});

/** The storyboard's layout: sprite size, grid and tiles (also `storyboard.json`'s `tiles`). */
export const StoryboardPlan = z
  .object({
    durationSeconds: z.number().positive(),
    tileWidth: z.number().int().positive(),
    tileHeight: z.number().int().positive(),
    columns: z.number().int().positive(),
    rows: z.number().int().positive(),
    /** Sprite size, pixels: columns × tileWidth by rows × tileHeight. */
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    tiles: z.array(StoryboardTile).min(1),
  })
  .openapi("StoryboardPlan");
export type StoryboardPlan = z.infer<typeof StoryboardPlan>;

/**
 * The storyboard of a video: N = clamp(round(duration / {@link STORYBOARD_SECONDS_PER_TILE}), 1,
 * {@link STORYBOARD_MAX_TILES}) tiles evenly spread, tile i standing for [i·d/N, (i+1)·d/N), laid out row by
 * row, {@link STORYBOARD_COLUMNS} per row, each {@link STORYBOARD_TILE_WIDTH} px wide and as high as the
 * displayed aspect ratio gives (even, ≥ 2).
 * @param durationSeconds > 0
 * @param displayWidth, displayHeight the frame as displayed (after the video's rotation), pixels
 * @throws RangeError on a non-positive duration or size
 */
export function storyboardPlan(durationSeconds: number, displayWidth: number, displayHeight: number): StoryboardPlan {
  if (!(durationSeconds > 0) || !(displayWidth > 0) || !(displayHeight > 0)) throw new RangeError("storyboard needs a positive duration and size");
  const n = Math.min(STORYBOARD_MAX_TILES, Math.max(1, Math.round(durationSeconds / STORYBOARD_SECONDS_PER_TILE)));
  const columns = Math.min(n, STORYBOARD_COLUMNS);
  const rows = Math.ceil(n / columns);
  const tileWidth = STORYBOARD_TILE_WIDTH;
  const tileHeight = Math.max(2, 2 * Math.round((tileWidth * displayHeight) / displayWidth / 2));
  const step = durationSeconds / n;
  const round3 = (v: number) => Math.round(v * 1000) / 1000;
  const tiles = Array.from({ length: n }, (_, i) => ({
    start: round3(i * step),
    end: round3(i === n - 1 ? durationSeconds : (i + 1) * step),
    x: (i % columns) * tileWidth,
    y: Math.floor(i / columns) * tileHeight,
    width: tileWidth,
    height: tileHeight,
  }));
  return { durationSeconds, tileWidth, tileHeight, columns, rows, width: columns * tileWidth, height: rows * tileHeight, tiles };
}

/** `HH:MM:SS.mmm` of a WebVTT cue time. */
export function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (v: number, w = 2) => String(v).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * WebVTT thumbnail track of a storyboard (what Vidstack and Video.js thumbnail plugins read): one cue per
 * tile, its text `<spriteUrl>#xywh=x,y,w,h` (Media Fragments).
 * @param spriteUrl URL of the sprite as the player must fetch it (absolute, or relative to the VTT's URL)
 */
export function storyboardVtt(plan: StoryboardPlan, spriteUrl: string): string {
  const cues = plan.tiles.map((t) => `${vttTime(t.start)} --> ${vttTime(t.end)}\n${spriteUrl}#xywh=${t.x},${t.y},${t.width},${t.height}`);
  return `WEBVTT\n\n${cues.join("\n\n")}\n`;
}

/** Every image file of a video, as the last path segment of its route. */
export const IMAGE_FILES = [
  "thumbnail.jpg",
  "thumbnail.png",
  "thumbnail.webp",
  "animated.gif",
  "animated.webp",
  "storyboard.jpg",
  "storyboard.webp",
  "storyboard.vtt",
  "storyboard.json",
] as const;
export const ImageFile = z.enum(IMAGE_FILES).describe("The image route, e.g. `thumbnail.jpg`, `animated.gif`, `storyboard.vtt`.");
export type ImageFile = (typeof IMAGE_FILES)[number];

/**
 * The render spec of a file and its query (validated with that kind's schema). `storyboard.vtt` and
 * `storyboard.json` are both made from the storyboard's plan (spec format `json`).
 * @returns `{spec}`, or `{issues}` (zod's, paths relative to the query)
 */
export function parseImageQuery(file: ImageFile, query: unknown): { spec: RenderSpec } | { issues: z.core.$ZodIssue[] } {
  const [kind, ext] = file.split(".") as [string, string];
  if (kind === "thumbnail") {
    const q = ThumbnailQuery.safeParse(query);
    return q.success ? { spec: thumbnailSpec(ext as ThumbnailFormat, q.data) } : { issues: q.error.issues };
  }
  if (kind === "animated") {
    const q = AnimatedQuery.safeParse(query);
    return q.success ? { spec: animatedSpec(ext as AnimatedFormat, q.data) } : { issues: q.error.issues };
  }
  const q = StoryboardQuery.safeParse(query);
  if (!q.success) return { issues: q.error.issues };
  return { spec: { kind: "storyboard", format: ext === "vtt" || ext === "json" ? "json" : (ext as "jpg" | "webp") } };
}

/** The images `POST /v1/videos/{id}/image-urls` signs when the body names none. */
export const DEFAULT_IMAGE_URLS: readonly { file: ImageFile }[] = [{ file: "thumbnail.jpg" }, { file: "animated.gif" }, { file: "storyboard.vtt" }];

/** Body of `POST /v1/videos/{id}/image-urls`. */
export const ImageUrlsRequest = z
  .object({
    images: z
      .array(
        z.object({
          file: ImageFile,
          query: z
            .record(z.string(), z.union([z.string(), z.number()]))
            .optional()
            .describe("The image's query parameters (e.g. `{\"time\": 12.5, \"width\": 640}`), validated like the image route's."),
        }),
      )
      .min(1)
      .max(50)
      .optional()
      .describe("The images to sign (default: the thumbnail, the animated GIF and the storyboard VTT)."),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(604_800)
      .optional()
      .describe("Lifetime of the URLs, seconds (60 to 7 days; default DOWNLOAD_URL_TTL_SECONDS)."),
  })
  .openapi("ImageUrlsRequest");
export type ImageUrlsRequest = z.infer<typeof ImageUrlsRequest>;

/** Answer of `POST /v1/videos/{id}/image-urls`. */
export const ImageUrls = z
  .object({
    expiresAt: z.string().describe("ISO 8601 time after which the URLs answer 403."),
    urls: z.array(z.object({ file: ImageFile, url: z.string().describe("Absolute URL with its `token`: usable in `<img src>` and players, no header needed.") })),
  })
  .openapi("ImageUrls");
export type ImageUrls = z.infer<typeof ImageUrls>;
