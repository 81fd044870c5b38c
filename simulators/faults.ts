import { ConfigError } from '../stream/errors.js';
import type { SampleFrame } from '../stream/kafka/frame.js';
import { seededRandom } from '../stream/model/random.js';

export const FAULT_KINDS = ['drop', 'duplicate', 'reorder', 'flat', 'noise'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  readonly kinds: readonly FaultKind[];
  /** One fault episode per bed about this often, s (the kinds take turns). */
  readonly everyS: number;
  readonly seed: number;
  /** Muscle-artefact noise (nstdb `ma`, digital units, one lead) for `noise` bursts. */
  readonly noise?: Int16Array;
}

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
  for (const frame of frames) {
    const startS = frame.firstSample / frame.sampleRate;
    if (active === undefined && startS >= nextFaultS) {
      const kind = plan.kinds[turn++ % plan.kinds.length]!;
      if (kind !== 'noise' || plan.noise !== undefined) {
        active = { kind, left: EPISODE_FRAMES[kind] };
        const frameS = frame.samples.length / frame.leads.length / frame.sampleRate;
        injected.push({ bedId: frame.bedId, kind, startS, endS: startS + active.left * frameS });
      }
      nextFaultS = startS + plan.everyS * (0.5 + random());
    }
    if (active === undefined) {
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
          // nstdb noise is 12-bit at the same 200 adu/mV scale as mitdb: added at 1:1 (SNR near 0 dB)
          noisy[i] = noisy[i]! + noise[noiseAt++ % noise.length]!;
        }
        yield { ...frame, samples: noisy };
        break;
      }
    }
  }
  if (held !== undefined) yield held;
}
