/**
 * ffmpeg `-progress` parsing (fraction, speed, ETA) and the HLS playlist helpers (media playlist reading,
 * master playlist writing, RFC 6381 codec strings).
 */
import { describe, expect, it } from "vitest";
import { avc1Codec, buildMasterPlaylist, hlsContentType, parseMediaPlaylist } from "../../../ffmpeg-container/src/jobs/transcode/hls.ts";
import { ProgressParser, progressFigures } from "../../../ffmpeg-container/src/jobs/transcode/progress.ts";

const block = (outUs: string, speed: string, end = false) =>
  `frame=10\nfps=0.00\nbitrate=N/A\ntotal_size=N/A\nout_time_us=${outUs}\nout_time_ms=${outUs}\nout_time=00:00:00.000000\ndup_frames=0\ndrop_frames=0\nspeed=${speed}\nprogress=${end ? "end" : "continue"}\n`;

describe("-progress parser", () => {
  it("emits one sample per block, across any split of the text", () => {
    const text = block("N/A", "N/A") + block("2500000", "1.25x") + block("10000000", "2x", true);
    const whole = new ProgressParser().push(text);
    expect(whole).toEqual([
      { outTimeSeconds: null, speed: null, ended: false },
      { outTimeSeconds: 2.5, speed: 1.25, ended: false },
      { outTimeSeconds: 10, speed: 2, ended: true },
    ]);
    const parser = new ProgressParser();
    const pieces: unknown[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(...parser.push(text.slice(i, i + 7)));
    expect(pieces).toEqual(whole);
  });

  it("a negative out_time (before the first frame) counts as unknown", () => {
    expect(new ProgressParser().push(block("-9223372036854775807", "0x"))[0]).toEqual({ outTimeSeconds: null, speed: 0, ended: false });
  });

  it("figures: fraction of the duration, speed, ETA = seconds left / speed; 1 and 0 at the end", () => {
    expect(progressFigures({ outTimeSeconds: 5, speed: 2, ended: false }, 20)).toEqual({ fraction: 0.25, speed: 2, etaSeconds: 7.5 });
    expect(progressFigures({ outTimeSeconds: 25, speed: 2, ended: false }, 20)).toEqual({ fraction: 1, speed: 2, etaSeconds: 0 });
    expect(progressFigures({ outTimeSeconds: 5, speed: null, ended: false }, 20)).toEqual({ fraction: 0.25, speed: null, etaSeconds: null });
    expect(progressFigures({ outTimeSeconds: 5, speed: 2, ended: false }, null)).toEqual({ fraction: 0, speed: 2, etaSeconds: null });
    expect(progressFigures({ outTimeSeconds: 9.9, speed: 3, ended: true }, 20)).toEqual({ fraction: 1, speed: 3, etaSeconds: 0 });
  });
});

describe("HLS playlists", () => {
  it("reads a media playlist as ffmpeg writes it", () => {
    const text = [
      "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:1", "#EXT-X-PLAYLIST-TYPE:VOD",
      "#EXT-X-INDEPENDENT-SEGMENTS", '#EXT-X-MAP:URI="init.mp4"', "#EXTINF:6.000000,", "seg-00001.m4s", "#EXTINF:2.500000,", "seg-00002.m4s", "#EXT-X-ENDLIST", "",
    ].join("\n");
    expect(parseMediaPlaylist(text)).toEqual({
      initUri: "init.mp4",
      version: 7,
      ended: true,
      segments: [
        { uri: "seg-00001.m4s", durationSeconds: 6 },
        { uri: "seg-00002.m4s", durationSeconds: 2.5 },
      ],
    });
    expect(() => parseMediaPlaylist("hello")).toThrow(/not an M3U8/);
  });

  it("writes a master playlist with relative variant URIs, bandwidths, resolution and codecs", () => {
    const text = buildMasterPlaylist(
      [
        { uri: "720/index.m3u8", peakBitsPerSecond: 3_000_000.2, averageBitsPerSecond: 2_000_000, width: 1280, height: 720, codecs: ["avc1.64001f", "mp4a.40.2"], frameRate: 24 },
        { uri: "360/index.m3u8", peakBitsPerSecond: 900_000, averageBitsPerSecond: 600_000, width: 640, height: 360, codecs: ["avc1.64001e"], frameRate: null },
      ],
      7,
    );
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=3000001,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=24.000',
        "720/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=600000,RESOLUTION=640x360,CODECS="avc1.64001e"',
        "360/index.m3u8",
        "",
      ].join("\n"),
    );
  });

  it("codec strings and content types", () => {
    expect(avc1Codec("High", 31)).toBe("avc1.64001f");
    expect(avc1Codec("Main", 40)).toBe("avc1.4d0028");
    expect(avc1Codec("Constrained Baseline", 30)).toBe("avc1.42401e");
    expect(hlsContentType("hls/720/index.m3u8")).toBe("application/vnd.apple.mpegurl");
    expect(hlsContentType("hls/720/seg-00001.m4s")).toBe("video/iso.segment");
    expect(hlsContentType("hls/720/seg-00001.ts")).toBe("video/mp2t");
    expect(hlsContentType("hls/720/init.mp4")).toBe("video/mp4");
  });
});
