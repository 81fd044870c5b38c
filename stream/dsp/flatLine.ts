import { ConfigError } from '../contracts/errors.js';

export interface FlatLineConfig {
  /** A lead whose range stays below this (mV)... */
  readonly flatMv: number;
  /** ...for this many seconds is off (flat line). */
  readonly flatS: number;
}

export const DEFAULT_FLAT_LINE: FlatLineConfig = { flatMv: 0.02, flatS: 2 };

/**
 * Lead-off by flat line: consecutive chunks of one lead whose range stays below `flatMv` for
 * `flatS` seconds. A detached electrode leaves the amplifier at its rail or at zero; the
 * filtered signal cannot tell that from asystole, the raw range can.
 */
export class FlatLineDetector {
  private readonly config: FlatLineConfig;
  /** Start of the current flat stretch (stream time, s), while there is one. */
  private flatSince: number | undefined;

  constructor(config: FlatLineConfig = DEFAULT_FLAT_LINE) {
    if (!(config.flatMv > 0 && config.flatS > 0))
      throw new ConfigError(
        `FlatLineDetector: flatMv and flatS must be positive, got ${config.flatMv} and ${config.flatS}`,
      );
    this.config = config;
  }

  /** One chunk of the lead in mV from `startS` to `endS`: whether the lead is off now. */
  push(mv: Float32Array, startS: number, endS: number): boolean {
    let min = Infinity;
    let max = -Infinity;
    for (const v of mv) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max - min < this.config.flatMv) this.flatSince ??= startS;
    else this.flatSince = undefined;
    return this.flat(endS);
  }

  /** Whether the lead has been flat for `flatS` up to `nowS`. */
  flat(nowS: number): boolean {
    return this.flatSince !== undefined && nowS - this.flatSince >= this.config.flatS;
  }

  /** Whether the latest chunk was flat (the stretch may still be too short to call). */
  get flatNow(): boolean {
    return this.flatSince !== undefined;
  }

  reset(): void {
    this.flatSince = undefined;
  }
}
