/**
 * Images on demand through the Worker in workerd: thumbnail, animated and storyboard routes, signed image
 * URLs, caching (images bucket + ETag/304), deletion. The render itself runs on a REAL processor (real
 * ffmpeg on ../shared/testdata/franck.mp4), reached through the ProcessorContainer object and the stand-in
 * processor, which forwards `POST /renders` and counts them (tests/workers/stand-in-processor.ts).
 */
import { inject } from "vitest";
import { beforeAll, describe, expect, it } from "vitest";
import type { Problem } from "../../../schema/api.ts";
import { StoryboardPlan, type ImageUrls } from "../../../schema/image-options.ts";
import { videoImagesPrefix } from "../../../schema/object-keys.ts";
import { signImageToken } from "../../../edge-api/src/services/images/image-token.ts";
import { imageEtag, storeImage } from "../../../edge-api/src/services/images/serve-image.ts";
import { api, insertVideo, signUp, testDeps } from "../support/env.ts";

const PROBLEM = "https://vidsnap.dev/problems/";

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ type: PROBLEM + kind, status });
  return body;
}

/** Renders the stand-in forwarded to the real processor for a video. */
async function renders(videoId: string): Promise<number> {
  const res = await fetch(`${inject("processorUrl")}/__renders/${videoId}`);
  return ((await res.json()) as { renders: number }).renders;
}

/** A completed video of `userId` whose source is a real test video. */
async function videoWithSource(userId: string, file = "franck.mp4"): Promise<string> {
  const id = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
  const res = await fetch(`${inject("processorUrl")}/__source/${userId}/${id}`, { method: "PUT", body: JSON.stringify({ file }) });
  expect(res.status).toBe(204);
  return id;
}

/** The keys under `prefix` in the images bucket once there are `count` of them (images are stored after their answer), or after 5 s. */
async function eventuallyKeys(prefix: string, count: number): Promise<string[]> {
  const deps = testDeps();
  let keys: string[] = [];
  for (let i = 0; i < 50; i++) {
    keys = await deps.storage.listKeys(deps.config.imagesBucket, prefix);
    if (keys.length === count) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return keys;
}

/** Path and query of an absolute URL the API handed out (the test calls the Worker directly). */
const local = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;
let video: string;

beforeAll(async () => {
  alice = await signUp("alice");
  bob = await signUp("bob");
  video = await videoWithSource(alice.userId);
});

describe("thumbnail", () => {
  it("renders once, then serves the stored image with its ETag; If-None-Match → 304", async () => {
    const path = `/v1/videos/${video}/thumbnail.jpg?time=12.5&width=180`;
    const first = await api(path, { token: alice.token });
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/jpeg");
    expect(first.headers.get("cache-control")).toBe("private, max-age=3600");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    expect(await renders(video)).toBe(1);
    expect(first.headers.get("x-image-cache")).toBe("render");

    // The answer did not wait for the images bucket; once stored, the object has the ETag already served.
    const deps = testDeps();
    const keys = await eventuallyKeys(videoImagesPrefix(alice.userId, video), 1);
    expect(keys).toHaveLength(1);
    const stored = await deps.storage.getObjectBytes(deps.config.imagesBucket, keys[0]!, 1 << 20);
    expect(stored?.etag).toBe(etag);
    expect(stored?.bytes).toEqual(bytes);

    // The same image asked differently (order, 12.50, explicit defaults) is the same cached object.
    const second = await api(`/v1/videos/${video}/thumbnail.jpg?width=180&fit_mode=preserve&time=12.50&accuracy=exact`, { token: alice.token });
    expect(second.status).toBe(200);
    expect(second.headers.get("etag")).toBe(etag);
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
    expect(await renders(video)).toBe(1);

    const notModified = await api(path, { token: alice.token, headers: { "if-none-match": etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(await renders(video)).toBe(1);
  });

  it("identical misses at once share one render", async () => {
    const id = await videoWithSource(alice.userId);
    const answers = await Promise.all([1, 2, 3].map(() => api(`/v1/videos/${id}/thumbnail.png?time=4`, { token: alice.token })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const etags = new Set(answers.map((r) => r.headers.get("etag")));
    expect(etags.size).toBe(1);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(await renders(id)).toBe(1);
  });

  it("png, webp, animated gif and storyboard sprite have their types", async () => {
    for (const [file, type] of [
      ["thumbnail.png?time=1", "image/png"],
      ["thumbnail.webp?time=1&rotate=90", "image/webp"],
      ["animated.gif?start=10&end=11&fps=5&width=120", "image/gif"],
      ["storyboard.jpg", "image/jpeg"],
    ] as const) {
      const res = await api(`/v1/videos/${video}/${file}`, { token: alice.token });
      expect(res.status, `${file}: ${await res.clone().text()}`).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      await res.arrayBuffer();
    }
  });

  it("out-of-range parameters are 400 naming the parameter", async () => {
    for (const [query, param] of [
      ["width=0", "width"],
      ["height=5000", "height"],
      ["rotate=45", "rotate"],
      ["fit_mode=zoom", "fit_mode"],
      ["quality=101", "quality"],
      ["time=-1", "time"],
      ["time=abc", "time"],
    ] as const) {
      const body = await expectProblem(await api(`/v1/videos/${video}/thumbnail.jpg?${query}`, { token: alice.token }), 400, "validation");
      expect(body.errors?.map((e) => e.path), query).toEqual([param]);
    }
    const animated = await expectProblem(await api(`/v1/videos/${video}/animated.gif?start=1&end=12`, { token: alice.token }), 400, "validation");
    expect(animated.errors?.map((e) => e.path)).toEqual(["end"]);
    const fps = await expectProblem(await api(`/v1/videos/${video}/animated.webp?fps=31`, { token: alice.token }), 400, "validation");
    expect(fps.errors?.map((e) => e.path)).toEqual(["fps"]);
    // Past the end of the 200 s video: only the processor knows the duration.
    const late = await expectProblem(await api(`/v1/videos/${video}/thumbnail.jpg?time=250`, { token: alice.token }), 400, "validation");
    expect(late.errors?.map((e) => e.path)).toEqual(["time"]);
  });

  it("409 before the upload is complete, 404 for another user's video, 401 without credentials", async () => {
    const pending = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    await expectProblem(await api(`/v1/videos/${pending}/thumbnail.jpg`, { token: alice.token }), 409, "upload-incomplete");
    await expectProblem(await api(`/v1/videos/${video}/thumbnail.jpg`, { token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${video}/storyboard.vtt`, { token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${video}/thumbnail.jpg`), 401, "unauthorized");
  });

  it("a damaged video is 422", async () => {
    const damaged = await videoWithSource(alice.userId, "DERIVED_franck.truncated-50pct.mp4");
    const body = await expectProblem(await api(`/v1/videos/${damaged}/thumbnail.jpg`, { token: alice.token }), 422, "video-unrenderable");
    expect(body.detail).toMatch(/moov atom not found/);
  });
});

describe("signed image URLs", () => {
  it("open the image with no header; altered, expired or another video's tokens get 403", async () => {
    const res = await api(`/v1/videos/${video}/image-urls`, {
      method: "POST",
      token: alice.token,
      json: { images: [{ file: "thumbnail.jpg", query: { time: 12.5, width: 180 } }, { file: "storyboard.vtt" }], expiresInSeconds: 600 },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const { urls, expiresAt } = (await res.json()) as ImageUrls;
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const thumb = urls[0]!.url;
    expect(thumb).toMatch(/\/thumbnail\.jpg\?time=12\.5&width=180&token=\d+\.[A-Za-z0-9_-]{43}$/);
    const ok = await api(local(thumb));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/jpeg");
    await ok.arrayBuffer();

    // Another parameter value, another file, another video: the same token opens nothing.
    await expectProblem(await api(local(thumb.replace("width=180", "width=181"))), 403, "image-token-invalid");
    await expectProblem(await api(local(thumb.replace("thumbnail.jpg", "thumbnail.png"))), 403, "image-token-invalid");
    const other = await videoWithSource(alice.userId);
    await expectProblem(await api(local(thumb.replace(video, other))), 403, "image-token-invalid");
    // A flipped signature character.
    const tampered = thumb.slice(0, -1) + (thumb.endsWith("A") ? "B" : "A");
    await expectProblem(await api(local(tampered)), 403, "image-token-invalid");
    // Expired.
    const spec = { kind: "thumbnail", format: "jpg", time: 12.5, width: 180, fit: "preserve", rotate: 0, accuracy: "exact" } as const;
    const expired = await signImageToken(testDeps(), video, "thumbnail.jpg", spec, Math.floor(Date.now() / 1000) - 1);
    await expectProblem(await api(`/v1/videos/${video}/thumbnail.jpg?time=12.5&width=180&token=${expired}`), 403, "image-token-invalid");
    // The bearer owner still reads it without a token; Bob cannot sign URLs of Alice's video.
    await expectProblem(await api(`/v1/videos/${video}/image-urls`, { method: "POST", token: bob.token, json: {} }), 404, "not-found");
  });

  it("the storyboard VTT points at the sprite with its own token; cues match the JSON tiles", async () => {
    const res = await api(`/v1/videos/${video}/image-urls`, { method: "POST", token: alice.token });
    const { urls } = (await res.json()) as ImageUrls;
    expect(urls.map((u) => u.file)).toEqual(["thumbnail.jpg", "animated.gif", "storyboard.vtt"]);
    const vttRes = await api(local(urls[2]!.url));
    expect(vttRes.status, await vttRes.clone().text()).toBe(200);
    expect(vttRes.headers.get("content-type")).toBe("text/vtt; charset=utf-8");
    // Players on other pages may fetch the track.
    expect(vttRes.headers.get("access-control-allow-origin")).toBe("*");
    const vtt = await vttRes.text();
    const cues = [...vtt.matchAll(/^\S+ --> \S+\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)$/gm)];
    const json = StoryboardPlan.parse(await (await api(`/v1/videos/${video}/storyboard.json`, { token: alice.token })).json());
    expect(cues).toHaveLength(json.tiles.length);
    expect(cues.map((c) => c.slice(2).map(Number))).toEqual(json.tiles.map((t) => [t.x, t.y, t.width, t.height]));
    const sprite = await api(local(cues[0]![1]!));
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get("content-type")).toBe("image/jpeg");
    await sprite.arrayBuffer();
  });

  it("bad image-urls bodies are 400 naming the field", async () => {
    const body = await expectProblem(
      await api(`/v1/videos/${video}/image-urls`, { method: "POST", token: alice.token, json: { images: [{ file: "thumbnail.jpg", query: { width: 0 } }] } }),
      400,
      "validation",
    );
    expect(body.errors?.map((e) => e.path)).toEqual(["images.0.query.width"]);
  });
});

describe("deletion", () => {
  it("deleting the video deletes every derived image", async () => {
    const id = await videoWithSource(alice.userId);
    for (const file of ["thumbnail.jpg?time=3", "storyboard.json"]) {
      const res = await api(`/v1/videos/${id}/${file}`, { token: alice.token });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const deps = testDeps();
    const prefix = videoImagesPrefix(alice.userId, id);
    // Images are stored after their answer.
    expect(await eventuallyKeys(prefix, 2)).toHaveLength(2);
    const del = await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token });
    expect(del.status).toBe(204);
    expect(await deps.storage.listKeys(deps.config.imagesBucket, prefix)).toEqual([]);
    await expectProblem(await api(`/v1/videos/${id}/thumbnail.jpg?time=3`, { token: alice.token }), 404, "not-found");
  });

  it("an image stored after its video was deleted is removed (the purge may have listed the prefix before the PUT)", async () => {
    const deps = testDeps();
    const image = { bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), contentType: "image/jpeg", etag: await imageEtag(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), from: "render" as const };
    const kept = await videoWithSource(alice.userId);
    const keptKey = `${videoImagesPrefix(alice.userId, kept)}probe.jpg`;
    await storeImage(deps, { id: kept, userId: alice.userId }, keptKey, image);
    expect(await deps.storage.listKeys(deps.config.imagesBucket, videoImagesPrefix(alice.userId, kept))).toEqual([keptKey]);
    const gone = await videoWithSource(alice.userId);
    expect((await api(`/v1/videos/${gone}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    const goneKey = `${videoImagesPrefix(alice.userId, gone)}probe.jpg`;
    await storeImage(deps, { id: gone, userId: alice.userId }, goneKey, image);
    expect(await deps.storage.listKeys(deps.config.imagesBucket, videoImagesPrefix(alice.userId, gone))).toEqual([]);
  });
});
