import { durationLimitError } from "../../../ffmpeg/input-checks.ts";
import { TIMESTAMP_EPSILON_SECONDS } from "../ffmpeg-args.ts";
import type { ExtractionPlan } from "../plan/plan.ts";
import { decodeImages, type ExtractorContext, type SequentialSource } from "./decode.ts";
import type { ImageSink } from "./image-sink.ts";
import { decodeInParallelSegments } from "./split.ts";

/**
 * Runs the plan's sequential decode (one ffmpeg, or two halves meeting at `splitSeconds`) and moves every
 * image into the sink as soon as its showinfo line (its timestamp) is known. With keyframe accuracy every
 * decoded keyframe goes through the picker and only the chosen ones are stored; once it is done (or
 * `cap` images are stored) ffmpeg is stopped early. Exact interval and timestamps plans stop the same way
 * once every target has its image (`run.stopTargets`: as many images as targets, or the image of the last
 * target, which no later image can follow); split in two halves, the second half stops at that last image.
 * @param splitSeconds meeting point of a split decode (`segmentSplitPoint`), null: one run
 * @throws JobError when ffmpeg fails, a limit is passed, or no image comes out
 */
export async function extractSequentially(
  ctx: ExtractorContext,
  source: SequentialSource,
  run: ExtractionPlan,
  sink: ImageSink,
  splitSeconds: number | null,
): Promise<void> {
  const { url, streamIndex } = source;
  const plan = run.sequential;
  const keyframePick = run.keyframePick;
  const pick = keyframePick?.picker;
  /** Keyframe accuracy: `maxImages` images stored. */
  const capped = () => sink.images.length >= (keyframePick?.cap ?? Number.POSITIVE_INFINITY);
  /** Every planned target has its image: no later frame can be one. */
  const targets = pick ? undefined : run.stopTargets;
  /**
   * The image of the last target: the first frame at or after it, so every earlier image lies before it
   * and nothing is selected after it (interval images end at the probed duration).
   */
  const lastTargetFrom = targets?.length ? targets[targets.length - 1]! - TIMESTAMP_EPSILON_SECONDS : undefined;
  const allTargetsAnswered = (t: number) => targets !== undefined && (sink.images.length >= targets.length || (lastTargetFrom !== undefined && t >= lastTargetFrom));
  let lastDecodedSeconds = Number.NEGATIVE_INFINITY;
  let stoppedEarly = false;
  const decoded =
    splitSeconds !== null
      ? decodeInParallelSegments(ctx, url, streamIndex, plan, splitSeconds, ctx.workDir, { lastImageFrom: lastTargetFrom })
      : decodeImages(ctx, url, streamIndex, plan, ctx.workDir);
  for await (const image of decoded) {
    const { info } = image;
    // MAX_DURATION_SECONDS also holds when the container declared no (or a false) duration.
    if (info.timestampSeconds > ctx.config.maxDurationSeconds) {
      throw durationLimitError(info.timestampSeconds, ctx.config.maxDurationSeconds, "decode");
    }
    lastDecodedSeconds = info.timestampSeconds;
    if (pick) {
      for (const chosen of pick.push(info.timestampSeconds, image)) {
        if (capped()) break;
        await sink.add(chosen.item.data, chosen.item.info);
      }
    } else {
      await sink.add(image.data, image.info);
    }
    ctx.progress(run.span.fraction(info.timestampSeconds), { images: sink.images.length });
    // Every target answered (or, with keyframe accuracy, the cap reached): the rest of the video is not needed.
    if ((pick && (pick.done || capped())) || allTargetsAnswered(info.timestampSeconds)) {
      stoppedEarly = true;
      ctx.log.info("decode stopped early", { reason: pick ? "keyframe picks done" : "every target has its image", atSeconds: lastDecodedSeconds, images: sink.images.length });
      break;
    }
  }
  if (pick && !stoppedEarly) {
    // The decode ended: targets still open take the last keyframe. Targets planned to a bound rather
    // than to the known end: only those up to the last keyframe count.
    for (const chosen of pick.finish(keyframePick!.targetsToEnd ? Number.POSITIVE_INFINITY : lastDecodedSeconds)) {
      if (capped()) break;
      await sink.add(chosen.item.data, chosen.item.info);
    }
  }
  sink.finish(run.emptyMessage);
}
