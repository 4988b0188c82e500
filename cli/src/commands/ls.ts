/**
 * `vidsnap ls [--status S] [--limit N] [--cursor C] [--all]`: the user's videos, newest first
 * (`GET /v1/videos`, cursor pagination).
 */
import { unwrap, type Video, type VideoStatus } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, formatBytes, note, parseStatus, printJson, say, shortStatus, usageError, type CliContext } from "../context.ts";

export interface ListInput {
  status?: VideoStatus;
  /** Page size 1..100 (API default 20). */
  limit?: number;
  cursor?: string;
  /** Follow `nextCursor` to the last page. */
  all?: boolean;
}

/**
 * @returns the videos and the cursor of the next page (null on the last page, always null with `all`)
 * @throws VidsnapApiError (401, 400 bad cursor), network errors
 */
export async function listVideos(ctx: CliContext, input: ListInput = {}): Promise<{ data: Video[]; nextCursor: string | null }> {
  const api = apiClient(ctx);
  const data: Video[] = [];
  let cursor = input.cursor;
  for (;;) {
    const page = unwrap(
      await api.GET("/v1/videos", {
        params: {
          query: {
            ...(input.limit ? { limit: input.limit } : {}),
            ...(cursor ? { cursor } : {}),
            ...(input.status ? { status: input.status } : {}),
          },
        },
      }),
    );
    data.push(...page.data);
    if (!input.all || !page.nextCursor) return { data, nextCursor: input.all ? null : page.nextCursor };
    cursor = page.nextCursor;
  }
}

/** A fixed-width table of videos. */
export function videoTable(videos: Video[]): string {
  const rows = [
    ["ID", "STATUS", "IMAGES", "ZIP", "CREATED", "FILE"],
    ...videos.map((v) => [
      v.id,
      shortStatus(v.status) + (v.status === "VIDEO_IMAGE_EXTRACTION_PROCESSING" && v.progress !== null ? ` ${Math.round(v.progress * 100)}%` : ""),
      v.imageCount === null ? "-" : String(v.imageCount),
      formatBytes(v.zipSizeBytes),
      v.createdAt.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
      v.filename,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

export const lsCommand: Command = {
  name: "ls",
  summary: "list your videos, newest first",
  help: `Usage: vidsnap ls [--status STATUS] [--limit N] [--cursor CURSOR] [--all]

Options:
  --status STATUS  only videos in this status: pending, queued, processing, success, error
                   (or the full name, e.g. VIDEO_IMAGE_EXTRACTION_SUCCESS)
  --limit N        page size, 1 to 100 (default 20)
  --cursor CURSOR  the page after CURSOR (printed when there are more videos)
  --all            every page

With --json prints {"data": [video…], "nextCursor": string | null}.`,
  options: {
    status: { type: "string" },
    limit: { type: "string" },
    cursor: { type: "string" },
    all: { type: "boolean" },
  },
  positionals: { min: 0, max: 0, names: "" },
  async run(ctx, values) {
    let limit: number | undefined;
    if (typeof values.limit === "string") {
      limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw usageError("--limit must be an integer from 1 to 100");
    }
    const page = await listVideos(ctx, {
      ...(typeof values.status === "string" ? { status: parseStatus(values.status) } : {}),
      ...(limit ? { limit } : {}),
      ...(typeof values.cursor === "string" ? { cursor: values.cursor } : {}),
      all: values.all === true,
    });
    if (ctx.json) printJson(ctx, page);
    else {
      say(ctx, page.data.length ? videoTable(page.data) : "no videos");
      if (page.nextCursor) note(ctx, `more: vidsnap ls --cursor ${page.nextCursor}${limit ? ` --limit ${limit}` : ""} (or --all)`);
    }
    return EXIT.ok;
  },
};
