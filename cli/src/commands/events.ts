/** `vidsnap events <id>`: the timeline of a video (`GET /v1/videos/{id}/events`), oldest first. */
import { unwrap, type VideoEvent } from "../../../client/src/index.ts";
import type { Command } from "../command.ts";
import { apiClient, EXIT, printJson, say, shortStatus, usageError, type CliContext } from "../context.ts";

/**
 * Every event of a video's timeline, oldest first (the API pages newest first: follows `nextCursor` to the
 * last page, then reverses).
 * @throws VidsnapApiError (404 unknown video), network errors
 */
export async function listVideoEvents(ctx: CliContext, videoId: string): Promise<VideoEvent[]> {
  const api = apiClient(ctx);
  const data: VideoEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = unwrap(await api.GET("/v1/videos/{id}/events", { params: { path: { id: videoId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
    data.push(...page.data);
    if (!page.nextCursor) return data.reverse();
    cursor = page.nextCursor;
  }
}

/** A fixed-width table of events: time, job (`transcode <id>` for a transcode), attempt, change, source, message. */
export function eventTable(events: VideoEvent[]): string {
  const rows = [
    ["TIME", "JOB", "ATTEMPT", "CHANGE", "SOURCE", "MESSAGE"],
    ...events.map((e) => [
      e.createdAt.replace("T", " ").replace(/Z$/, ""),
      e.jobId ? `${e.jobKind} ${e.jobId}` : e.jobKind,
      String(e.attempt),
      `${e.fromStatus ? shortStatus(e.fromStatus) : "-"} → ${shortStatus(e.toStatus)}`,
      e.source,
      e.message ?? "",
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

export const eventsCommand: Command = {
  name: "events",
  summary: "show a video's timeline: every status change of it and its jobs",
  help: `Usage: vidsnap events <id>

Lists the status changes of the video, its extraction and its transcodes, oldest first, with the
attempt, who caused each (user, processor, api, cron, generator) and why.
With --json prints {"data": [event…]} (oldest first).`,
  options: {},
  positionals: { min: 1, max: 1, names: "<id>" },
  async run(ctx, _values, [id]) {
    if (!id) throw usageError("missing <id>");
    const data = await listVideoEvents(ctx, id);
    if (ctx.json) printJson(ctx, { data });
    else say(ctx, data.length ? eventTable(data) : "no events");
    return EXIT.ok;
  },
};
