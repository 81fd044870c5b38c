import { type AlarmType } from '../stream/contracts/alarms.js';
import { median } from '../stream/dsp/index.js';
import { ConfigError } from '../stream/contracts/errors.js';
import type { SampleFrame } from '../stream/contracts/frame.js';
import { seededRandom } from '../stream/model/random.js';

export const FAULT_KINDS = ['drop', 'duplicate', 'reorder', 'flat', 'noise'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The technical alarm each fault must raise; duplicated and reordered frames are absorbed by
 * the pipeline's ordering (nothing to alarm, nothing lost).
 */
export const FAULT_TECHNICAL_ALARM: Readonly<Record<FaultKind, AlarmType | null>> = {
  drop: 'signal-gap',
  duplicate: null,
  reorder: null,
  flat: 'flat-line',
  noise: 'poor-signal',
};

export interface FaultPlan {
  readonly kinds: readonly FaultKind[];
  /** One fault episode per bed about this often, s (the kinds take turns). */
  readonly everyS: number;
  readonly seed: number;
  /** Muscle-artefact noise (nstdb `ma`, digital units, one lead) for `noise` bursts. */
  readonly noise?: Int16Array;
  /** Signal-to-noise ratio of the bursts, dB, as nst(1) defines it (default DEFAULT_NOISE_SNR_DB). */
  readonly noiseSnrDb?: number;
}

/**
 * Noise bursts at -6 dB, noise of four times the signal's power: the heaviest level of the Noise
 * Stress Test Database (24 to -6 dB), a stretch no analysis can trust and the monitor must call
 * poor signal. Milder bursts (0 or 6 dB) it mostly analyses through.
 */
export const DEFAULT_NOISE_SNR_DB = -6;

/** What was injected where, for the validation report. */
export interface InjectedFault {
  readonly bedId: string;
  readonly kind: FaultKind;
  readonly startS: number;
  readonly endS: number;
}

export function parseFaultKinds(text: string): FaultKind[] {
  const kinds = text.split(',').map((k) => k.trim());
  const bad = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (bad.length > 0)
    throw new ConfigError(`unknown fault kind(s) ${bad.join(', ')}; choose from ${FAULT_KINDS.join(', ')}`);
  return kinds as FaultKind[];
}

const EPISODE_FRAMES: Readonly<Record<FaultKind, number>> = { drop: 8, duplicate: 1, reorder: 2, flat: 16, noise: 40 };

/**
 * Damages a bed's frame stream the ways real telemetry fails: frames lost (2 s), sent twice,
 * swapped, a flat line (lead off, 4 s) and bursts of real muscle noise (10 s). Deterministic
 * from the seed; every episode is reported through `injected`.
 */
export function* injectFaults(
  frames: Iterable<SampleFrame>,
  plan: FaultPlan,
  injected: InjectedFault[],
): Generator<SampleFrame> {
  if (plan.kinds.length === 0) {
    yield* frames;
    return;
  }
  const random = seededRandom(plan.seed);
  let nextFaultS = plan.everyS * (0.5 + random());
  let turn = 0;
  let active: { kind: FaultKind; left: number } | undefined;
  let held: SampleFrame | undefined;
  let noiseAt = Math.floor(random() * 100_000);
  const noisePower = plan.noise === undefined ? 0 : variance(plan.noise);
  const snr = 10 ** ((plan.noiseSnrDb ?? DEFAULT_NOISE_SNR_DB) / 10);
  const amplitude = new LeadAmplitude();
  // each lead's noise gain for the burst under way, from the signal before it
  let gains: number[] = [];
  for (const frame of frames) {
    const startS = frame.firstSample / frame.sampleRate;
    if (active === undefined && startS >= nextFaultS) {
      const kind = plan.kinds[turn++ % plan.kinds.length]!;
      if (kind !== 'noise' || plan.noise !== undefined) {
        active = { kind, left: EPISODE_FRAMES[kind] };
        const frameS = frame.samples.length / frame.leads.length / frame.sampleRate;
        injected.push({ bedId: frame.bedId, kind, startS, endS: startS + active.left * frameS });
        // nst(1)'s SNR: signal power (QRS peak to peak)^2 / 8, a sine's of that range; noise power its variance
        gains = frame.leads.map((_, l) => {
          const pp = amplitude.peakToPeak(l);
          return pp === undefined || noisePower === 0 ? 1 : Math.sqrt((pp * pp) / 8 / (noisePower * snr));
        });
      }
      nextFaultS = startS + plan.everyS * (0.5 + random());
    }
    if (active === undefined) {
      amplitude.push(frame); // the signal as it is, never a damaged stretch
      yield frame;
      continue;
    }
    active.left--;
    const kind = active.kind;
    if (active.left <= 0) active = undefined;
    switch (kind) {
      case 'drop':
        break;
      case 'duplicate':
        yield frame;
        yield frame;
        break;
      case 'reorder':
        if (held === undefined) held = frame;
        else {
          yield frame;
          yield held;
          held = undefined;
        }
        break;
      case 'flat': {
        const flat = new Int16Array(frame.samples.length);
        frame.leads.forEach((lead, l) => {
          for (let i = l; i < flat.length; i += frame.leads.length) flat[i] = lead.baseline;
        });
        yield { ...frame, samples: flat };
        break;
      }
      case 'noise': {
        const noise = plan.noise!;
        const noisy = Int16Array.from(frame.samples);
        for (let i = 0; i < noisy.length; i++) {
          const value = noisy[i]! + gains[i % frame.leads.length]! * noise[noiseAt++ % noise.length]!;
          noisy[i] = Math.max(-32768, Math.min(32767, Math.round(value)));
        }
        yield { ...frame, samples: noisy };
        break;
      }
    }
  }
  if (held !== undefined) yield held;
}

function variance(x: Int16Array): number {
  let sum = 0;
  let squares = 0;
  for (const v of x) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / x.length;
  return squares / x.length - mean * mean;
}

/**
 * Each lead's QRS peak-to-peak amplitude as the stream shows it before a burst: the median of
 * the ranges of its 2 s stretches over the last 30 s (every stretch holds a QRS above 30 bpm).
 */
class LeadAmplitude {
  private ranges: number[][] = [];
  private low: number[] = [];
  private high: number[] = [];
  private samples = 0;

  push(frame: SampleFrame): void {
    const leads = frame.leads.length;
    const stretch = 2 * frame.sampleRate;
    for (let i = 0; i < frame.samples.length; i++) {
      const l = i % leads;
      const v = frame.samples[i]!;
      this.low[l] = Math.min(this.low[l] ?? v, v);
      this.high[l] = Math.max(this.high[l] ?? v, v);
      if (l === leads - 1 && ++this.samples >= stretch) {
        for (let k = 0; k < leads; k++)
          this.ranges[k] = [...(this.ranges[k] ?? []).slice(-14), this.high[k]! - this.low[k]!];
        this.low = [];
        this.high = [];
        this.samples = 0;
      }
    }
  }

  peakToPeak(lead: number): number | undefined {
    const ranges = this.ranges[lead] ?? [];
    return ranges.length === 0 ? undefined : median(ranges);
  }
}
