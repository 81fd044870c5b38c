import { ConfigError } from '../contracts/errors.js';

/**
 * Why a lead cannot be read, each a technical alarm of its own: the device marks its samples
 * invalid (an electrode off), it is flat, or it is pinned at the amplifier's rail (saturated).
 */
export const LEAD_FAULTS = ['lead-off', 'flat-line', 'saturation'] as const;
export type LeadFault = (typeof LEAD_FAULTS)[number];

export interface LeadCheckConfig {
  /** A lead whose range stays below this (physical units, mV)... */
  readonly flatMv: number;
  /** ...or that shows any fault for this many seconds is faulty. */
  readonly faultS: number;
  /** A chunk with at least this share of invalid samples is off. */
  readonly invalidShare: number;
  /**
   * A chunk with at least this share of its samples at exactly its highest or lowest value, over
   * a range of at least `saturationMv`, is clipped: the trace sits at the rail between the
   * moments it comes off it.
   */
  readonly saturatedShare: number;
  readonly saturationMv: number;
}

export const DEFAULT_LEAD_CHECK: LeadCheckConfig = {
  // a lead on a patient moves by more than this in a quarter of a second, even in asystole
  // (baseline wander, mains, the amplifier's own noise); one that does not is disconnected
  flatMv: 0.005,
  faultS: 2,
  invalidShare: 0.5,
  saturatedShare: 0.25,
  saturationMv: 0.5,
};

/** Samples at one extreme value below which a chunk is not called clipped, however short it is. */
const MIN_CLIPPED = 4;

/** The fault one chunk shows, or undefined for a chunk that can be read. */
export function chunkFault(x: Float32Array, config: LeadCheckConfig): LeadFault | undefined {
  let min = Infinity;
  let max = -Infinity;
  let invalid = 0;
  for (const v of x) {
    if (Number.isNaN(v)) invalid++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (x.length === 0) return undefined;
  if (invalid >= config.invalidShare * x.length) return 'lead-off';
  if (max - min < config.flatMv) return 'flat-line';
  if (max - min < config.saturationMv) return undefined;
  let atMax = 0;
  let atMin = 0;
  for (const v of x) {
    if (v === max) atMax++;
    else if (v === min) atMin++;
  }
  const valid = x.length - invalid;
  const clipped = Math.max(atMax, atMin);
  return clipped >= MIN_CLIPPED && clipped >= config.saturatedShare * valid ? 'saturation' : undefined;
}

/**
 * Whether one lead can be read, from consecutive chunks of it (physical units, NaN where the
 * device marked a sample invalid): a fault is called once the chunks have shown one for
 * `faultS` seconds, and ends with the first chunk that can be read. A detached electrode leaves
 * the amplifier at its rail or at zero; the filtered signal cannot tell that from asystole, the
 * raw one can.
 */
export class LeadCheck {
  private readonly config: LeadCheckConfig;
  /** Start of the current faulty stretch (stream time, s) and the fault its latest chunk showed. */
  private faultySince: number | undefined;
  private latest: LeadFault | undefined;

  constructor(config: LeadCheckConfig = DEFAULT_LEAD_CHECK) {
    if (!(config.flatMv > 0 && config.faultS > 0))
      throw new ConfigError(`LeadCheck: flatMv and faultS must be positive, got ${config.flatMv} and ${config.faultS}`);
    if (!(
      config.invalidShare > 0 &&
      config.invalidShare <= 1 &&
      config.saturatedShare > 0 &&
      config.saturatedShare <= 1
    ))
      throw new ConfigError('LeadCheck: invalidShare and saturatedShare must be in (0, 1]');
    this.config = config;
  }

  /** One chunk from `startS` to `endS`: the lead's fault now, or undefined while it can be read. */
  push(x: Float32Array, startS: number, endS: number): LeadFault | undefined {
    this.latest = chunkFault(x, this.config);
    if (this.latest === undefined) this.faultySince = undefined;
    else this.faultySince ??= startS;
    return this.fault(endS);
  }

  /** The fault called at `nowS`: the latest chunk's, once the faulty stretch has lasted `faultS`. */
  fault(nowS: number): LeadFault | undefined {
    return this.faultySince !== undefined && nowS - this.faultySince >= this.config.faultS ? this.latest : undefined;
  }

  /** Whether the latest chunk showed a fault (the stretch may still be too short to call). */
  get faultyNow(): boolean {
    return this.latest !== undefined;
  }

  reset(): void {
    this.faultySince = undefined;
    this.latest = undefined;
  }
}
