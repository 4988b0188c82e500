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
    expect(rules(old)).toEqual([expect.stringMatching(/ node-version$/), expect.stringMatching(/ node-version$/)]);
    // a longer version sharing the prefix is another release
    expect(rules(dockerfile, NODE_LTS_VERSION.slice(0, -1))).toHaveLength(2);
  });

  it("reports an esbuild target of another major and a final stage that is not node", () => {
    expect(lintDockerfile(dockerfile.replace(`--target=node${major}`, "--target=node20"), { nodeVersion: NODE_LTS_VERSION })).toEqual([
      expect.objectContaining({ rule: "node-version", message: `esbuild --target=node20, the image runs Node ${major}` }),
    ]);
    const debian = dockerfile.replace(/FROM node:\$\{NODE_VERSION\}-bookworm-slim\nRUN/, "FROM debian:bookworm-slim\nRUN");
    expect(lintDockerfile(debian, { nodeVersion: NODE_LTS_VERSION })).toEqual([
      expect.objectContaining({ rule: "node-version", message: expect.stringContaining("the final stage is not built FROM node:") }),
    ]);
  });

  it("checks nothing about Node without the option", () => {
    expect(lintDockerfile(dockerfile.replace(`ARG NODE_VERSION=${NODE_LTS_VERSION}`, "ARG NODE_VERSION=20.20.2"))).toEqual([]);
  });
});
