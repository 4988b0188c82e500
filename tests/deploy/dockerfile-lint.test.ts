/**
 * tools/deploy/dockerfile-lint.ts's node-version rule on the real ffmpeg-container/Dockerfile: the image's Node
 * is tools/node-lts.ts's NODE_LTS_VERSION (the Node the processor's tests run on), and drifts are reported.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lintDockerfile } from "../../tools/deploy/dockerfile-lint.ts";
import { NODE_LTS_VERSION } from "../../tools/node-lts.ts";
import { REPO_ROOT } from "../../tools/paths.ts";

const dockerfile = readFileSync(path.join(REPO_ROOT, "ffmpeg-container/Dockerfile"), "utf8");
const major = NODE_LTS_VERSION.split(".")[0];
const rules = (text: string, nodeVersion = NODE_LTS_VERSION) => lintDockerfile(text, { nodeVersion }).map((i) => `${i.line} ${i.rule}`);

describe("Dockerfile lint: node-version", () => {
  it("the Dockerfile is clean and pins NODE_LTS_VERSION", () => {
    expect(lintDockerfile(dockerfile, { nodeVersion: NODE_LTS_VERSION })).toEqual([]);
    expect(dockerfile).toContain(`ARG NODE_VERSION=${NODE_LTS_VERSION}\n`);
    expect(dockerfile).toContain(`--target=node${major} `);
  });

  it("reports another release in the base images, on every stage", () => {
    const old = dockerfile.replace(`ARG NODE_VERSION=${NODE_LTS_VERSION}`, "ARG NODE_VERSION=20.20.2");
    // three stages: ffmpeg (the lean build), build (the bundle), the runtime
    expect(rules(old)).toEqual([expect.stringMatching(/ node-version$/), expect.stringMatching(/ node-version$/), expect.stringMatching(/ node-version$/)]);
    // a longer version sharing the prefix is another release
    expect(rules(dockerfile, NODE_LTS_VERSION.slice(0, -1))).toHaveLength(3);
  });

  it("reports an esbuild target of another major and a final stage that is not node", () => {
    expect(lintDockerfile(dockerfile.replace(`--target=node${major}`, "--target=node20"), { nodeVersion: NODE_LTS_VERSION })).toEqual([
      expect.objectContaining({ rule: "node-version", message: `esbuild --target=node20, the image runs Node ${major}` }),
    ]);
    const debian = dockerfile.replace(/FROM node:\$\{NODE_VERSION\}-bookworm-slim\nLABEL/, "FROM debian:bookworm-slim\nLABEL");
    expect(lintDockerfile(debian, { nodeVersion: NODE_LTS_VERSION })).toEqual([
      expect.objectContaining({ rule: "node-version", message: expect.stringContaining("the final stage is not built FROM node:") }),
    ]);
  });

  it("checks nothing about Node without the option", () => {
    expect(lintDockerfile(dockerfile.replace(`ARG NODE_VERSION=${NODE_LTS_VERSION}`, "ARG NODE_VERSION=20.20.2"))).toEqual([]);
  });
});

describe("Dockerfile lint: lean-ffmpeg", () => {
  const SCRIPT = "ffmpeg-container/build/build-ffmpeg.sh";
  const lean = (text: string) => lintDockerfile(text, { ffmpegBuildScript: SCRIPT }).filter((i) => i.rule === "lean-ffmpeg").map((i) => i.message);

  it("the Dockerfile ships the lean build: built by the script, copied, pointed at, licence labelled", () => {
    expect(lean(dockerfile)).toEqual([]);
    expect(dockerfile).toContain(`bash /src/${SCRIPT}`);
  });

  it("reports Debian's ffmpeg package in the final stage", () => {
    const apt = dockerfile.replace(
      "xargs -a /tmp/ffmpeg-runtime-packages.txt apt-get install -y --no-install-recommends",
      "apt-get install -y --no-install-recommends ffmpeg",
    );
    expect(lean(apt)).toEqual(["the final stage installs Debian's ffmpeg package (the image ships the lean build)"]);
  });

  it("reports a missing build stage, copy, path or licence label", () => {
    expect(lean(dockerfile.replace(`bash /src/${SCRIPT}`, "bash /src/other.sh"))).toEqual(
      expect.arrayContaining([`no build stage runs ${SCRIPT}`, "the final stage does not COPY ffmpeg from the lean build stage"]),
    );
    expect(lean(dockerfile.replace("FFPROBE_PATH=/usr/local/bin/ffprobe", "FFPROBE_PATH=/usr/bin/ffprobe"))).toEqual([
      "FFPROBE_PATH is /usr/bin/ffprobe, the lean ffprobe is copied to /usr/local/bin/ffprobe",
    ]);
    expect(lean(dockerfile.replaceAll("GPL-2.0-or-later", "GPL"))).toEqual(["no LABEL states the ffmpeg binaries' licence (GPL-2.0-or-later)"]);
  });
});
