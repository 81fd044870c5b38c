import { THEME } from './alarmPresentation.js';
import { MISSING } from './displayFrame.js';
import type { WardStore } from './store.js';

const HZ = 125;
/** The strip's width in time, s: a bedside monitor's sweep. */
export const SWEEP_S = 6;
/** How far behind the newest sample the sweep draws, samples: frames come every 250 ms, drawing is smooth. */
const DELAY = Math.round(0.6 * HZ);
/** The blank bar ahead of the sweep, s. */
const ERASE_S = 0.25;
/** A playhead further than this from where it should be jumps there, samples. */
const JUMP = 2 * HZ;
/** No new samples for this long, ms: the strip is not drawn as live. */
export const NOT_LIVE_MS = 2500;
/** 1 mV spans this share of a lead's band. */
const MV_SHARE = 0.35;

/**
 * One bed's sweeping strip on a canvas: each animation frame draws only the samples that are new
 * since the last (as a monitor's sweep does), clearing a bar ahead of the cursor. Gaps (samples
 * the gateway does not have, frames dropped for a slow screen) break the trace.
 */
export class SweepStrip {
  /** Display index the sweep has reached (fractional), and the last sample drawn. */
  private playhead: number | undefined;
  private drawn = -1;
  private lastNow = 0;
  private readonly ctx: CanvasRenderingContext2D;
  /** Whether new samples keep arriving (set each frame). */
  live = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    readonly bedId: string,
    private readonly store: WardStore,
  ) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
  }

  /** The canvas was resized: everything is drawn again from the samples held. */
  reset(): void {
    this.playhead = undefined;
  }

  draw(now: number): void {
    const wave = this.store.waves.get(this.bedId);
    const dt = this.lastNow === 0 ? 0 : Math.min(now - this.lastNow, 250);
    this.lastNow = now;
    this.live = wave !== undefined && now - wave.receivedAt < NOT_LIVE_MS;
    if (wave === undefined || wave.end === 0) return;
    const target = wave.end - DELAY;
    const width = Math.round(SWEEP_S * HZ);
    if (this.playhead === undefined || Math.abs(target - this.playhead) > JUMP) {
      // first draw, or far off: the last 6 s at once
      this.playhead = Math.max(0, target);
      this.drawn = Math.max(-1, Math.floor(this.playhead) - width);
      this.clear();
    } else {
      const speed = this.store.beds.get(this.bedId)?.speed ?? 1;
      const correction = Math.min(1.5, Math.max(0.5, 1 + (target - this.playhead) / HZ));
      this.playhead = Math.min(wave.end - 1, this.playhead + (dt / 1000) * HZ * Math.max(speed, 0.1) * correction);
    }
    const upTo = Math.floor(this.playhead);
    if (upTo <= this.drawn) return;
    this.segment(this.drawn, upTo, width, (l, k) => wave.at(l, k), wave.leads.length);
    this.drawn = upTo;
  }

  private clear(): void {
    this.ctx.fillStyle = THEME.background;
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Draws samples (from, to] of every lead, erasing the bar ahead of the newest. */
  private segment(from: number, to: number, width: number, at: (l: number, k: number) => number, leads: number): void {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    const px = w / width;
    const band = h / Math.max(1, leads);
    const start = Math.max(from + 1, to - width + 1);
    ctx.fillStyle = THEME.background;
    if (to - start + 1 >= width - ERASE_S * HZ) ctx.fillRect(0, 0, w, h);
    else {
      const x0 = (start % width) * px;
      const x1 = (to % width) * px + ERASE_S * HZ * px;
      if (start % width <= to % width) {
        ctx.fillRect(x0, 0, Math.min(x1, w) - x0, h);
        if (x1 > w) ctx.fillRect(0, 0, x1 - w, h);
      } else {
        ctx.fillRect(x0, 0, w - x0, h);
        ctx.fillRect(0, 0, x1, h);
      }
    }
    ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1) * 1.2;
    ctx.lineJoin = 'round';
    for (let l = 0; l < leads; l++) {
      ctx.strokeStyle = l === 0 ? THEME.trace : THEME.secondTrace;
      const top = band * l;
      const mid = top + band / 2;
      const scale = (band * MV_SHARE) / 1000;
      ctx.beginPath();
      let pen = false;
      // from the sample before the first new one, so the trace joins what is drawn
      for (let k = Math.max(0, start - 1); k <= to; k++) {
        const v = at(l, k);
        if (v === MISSING || k % width === 0) pen = false;
        if (v === MISSING) continue;
        const x = (k % width) * px;
        const y = Math.max(top + 1, Math.min(top + band - 1, mid - v * scale));
        if (pen) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    }
  }
}

/** The one animation-frame loop that draws every registered strip. */
export class SweepRenderer {
  private readonly strips = new Set<SweepStrip>();
  private frame: number | undefined;

  add(strip: SweepStrip): void {
    this.strips.add(strip);
    this.frame ??= requestAnimationFrame(this.tick);
  }

  delete(strip: SweepStrip): void {
    this.strips.delete(strip);
  }

  private readonly tick = (now: number): void => {
    for (const strip of this.strips) strip.draw(now);
    this.frame = this.strips.size > 0 ? requestAnimationFrame(this.tick) : undefined;
  };
}

export const sweeps = new SweepRenderer();
