/**
 * `accuracy: "keyframe"`: the keyframe nearest to each target time, chosen while keyframes are decoded.
 * No packet index is read first (it would cost a process start and a pass over every packet: ~0.4 s on
 * the 1080p bench input), and the keyframes are those the decoder really decoded, so an AVI whose index
 * flags every packet as key still yields its real keyframes. Pure.
 *
 * Rule: among the keyframes at or after 0 and within the window [S − ε, E + ε], target T takes the
 * nearest one; a tie goes to the earlier keyframe; a target before the first keyframe takes the first,
 * one after the last takes the last. Each keyframe becomes one image, however many targets chose it.
 * ε = TIMESTAMP_EPSILON_SECONDS (1 µs).
 */
import { TIMESTAMP_EPSILON_SECONDS } from "../ffmpeg-args.ts";
import type { TimeWindow } from "./strategy.ts";

/** A keyframe the picker chose: its time (seconds) and what the caller attached to it (the image). */
export interface PickedKeyframe<T> {
  timeSeconds: number;
  item: T;
}

/**
 * Online nearest-keyframe choice. Feed keyframes in ascending time with {@link push}, then call
 * {@link finish} once the decode ended. Holds at most one unchosen keyframe (the latest), so memory is
 * one image whatever the video's length.
 */
export class NearestKeyframePicker<T> {
  /** Keyframe time chosen for each resolved target, in target order (NaN: no keyframe at all). */
  readonly perTarget: number[] = [];
  private readonly targets: readonly number[];
  private next = 0;
  private readonly start: number;
  private readonly end: number;
  /** Latest candidate keyframe (the "before" of the pending targets). */
  private prev: PickedKeyframe<T> | undefined;
  private lastEmitted = Number.NaN;

  /**
   * @param targets target times, seconds, ascending (interval times S, S + N…, or timestamps)
   * @param window the job's window; keyframes outside it are never chosen
   */
  constructor(targets: readonly number[], window: TimeWindow = {}) {
    this.targets = targets;
    this.start = window.startSeconds ?? 0;
    this.end = window.endSeconds ?? Number.POSITIVE_INFINITY;
  }

  /** True once every target is resolved: later keyframes cannot change the answer (stop decoding). */
  get done(): boolean {
    return this.next >= this.targets.length;
  }

  /**
   * Offers the next decoded keyframe.
   * @param timeSeconds its presentation time, seconds, not below the previous one
   * @param item what to hand back if it is chosen (the encoded image)
   * @returns the keyframes chosen now, ascending, each once (0, 1 or 2: the previous and this one)
   */
  push(timeSeconds: number, item: T): PickedKeyframe<T>[] {
    const eps = TIMESTAMP_EPSILON_SECONDS;
    if (timeSeconds < 0 || timeSeconds < this.start - eps || timeSeconds > this.end + eps) return [];
    const current = { timeSeconds, item };
    const out: PickedKeyframe<T>[] = [];
    // Every pending target before this keyframe now knows both neighbours.
    while (this.next < this.targets.length && this.targets[this.next]! + eps < timeSeconds) {
      const target = this.targets[this.next++]!;
      const before = this.prev;
      const best = before === undefined || timeSeconds - target < target - before.timeSeconds ? current : before;
      this.choose(best, out);
    }
    this.prev = current;
    return out;
  }

  /**
   * Ends the stream: the targets still pending take the last keyframe (none came after them).
   * @param lastTargetSeconds targets after this time stay unresolved (used when the video's duration is
   *   unknown and the targets were planned to a bound, not to the real end); default: all
   * @returns the keyframes chosen now (at most one)
   */
  finish(lastTargetSeconds = Number.POSITIVE_INFINITY): PickedKeyframe<T>[] {
    const out: PickedKeyframe<T>[] = [];
    while (this.next < this.targets.length && this.targets[this.next]! <= lastTargetSeconds) {
      this.next++;
      if (this.prev) this.choose(this.prev, out);
      else this.perTarget.push(Number.NaN);
    }
    return out;
  }

  private choose(best: PickedKeyframe<T>, out: PickedKeyframe<T>[]): void {
    this.perTarget.push(best.timeSeconds);
    // Choices never go back in time as targets ascend: comparing with the last one de-duplicates.
    if (best.timeSeconds !== this.lastEmitted) {
      this.lastEmitted = best.timeSeconds;
      out.push(best);
    }
  }
}
