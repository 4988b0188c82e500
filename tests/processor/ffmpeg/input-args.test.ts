/**
 * Input options of every ffprobe/ffmpeg read (ffmpeg-container/src/ffmpeg/input-args.ts).
 */
import { describe, expect, it } from "vitest";
import { buildProbeArgs } from "../../../ffmpeg-container/src/ffmpeg/input-args.ts";

const URL_IN = "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc";

/** Value following `flag` in an argument array. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildProbeArgs", () => {
  it("JSON of format and streams, errors only", () => {
    const args = buildProbeArgs(URL_IN);
    expect(after(args, "-v")).toBe("error");
    expect(after(args, "-print_format")).toBe("json");
    expect(args).toContain("-show_format");
    expect(args).toContain("-show_streams");
    expect(args.at(-1)).toBe(URL_IN);
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
  });
});
