/**
 * Reads the emails the email consumer sent or recorded for a video from the local D1 database
 * (table `emails`), through `wrangler d1 execute --local` on the stack's persisted state.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, offlineWranglerEnv } from "./stack.ts";

export interface EmailRow {
  outcome: "success" | "error";
  attempt: number;
  to: string;
  subject: string;
  status: string;
  text_body: string;
}

/**
 * @param dataDir the stack's data folder (default `<repo>/.data`)
 * @param videoId a video id (UUID; anything else is refused to keep it out of the SQL text)
 * @throws Error when the id is not a UUID or wrangler fails
 */
export async function readEmails(dataDir: string, videoId: string): Promise<EmailRow[]> {
  if (!/^[0-9a-f-]{36}$/i.test(videoId)) throw new Error(`not a video id: ${videoId}`);
  const { stdout } = await promisify(execFile)(
    path.join(REPO_ROOT, "node_modules/.bin/wrangler"),
    [
      "d1", "execute", "DB", "--local", "--json", "-c", "wrangler.toml",
      "--persist-to", path.join(dataDir, "wrangler"),
      "--command",
      `SELECT outcome, attempt, "to", subject, status, text_body FROM emails WHERE video_id = '${videoId}' ORDER BY created_at`,
    ],
    { cwd: REPO_ROOT, env: offlineWranglerEnv(), maxBuffer: 16 * 1024 * 1024 },
  );
  const parsed = JSON.parse(stdout) as { results: EmailRow[] }[];
  return parsed[0]?.results ?? [];
}
