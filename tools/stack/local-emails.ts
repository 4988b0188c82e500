/**
 * Reads the emails the email consumer sent or recorded for a video from the local D1 database
 * (table `emails`) of a stack's persisted state.
 */
import path from "node:path";
import { queryLocalD1 } from "../wrangler.ts";

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
  return queryLocalD1<EmailRow>(
    path.join(dataDir, "wrangler"),
    `SELECT outcome, attempt, "to", subject, status, text_body FROM emails WHERE video_id = '${videoId}' ORDER BY created_at`,
  );
}
