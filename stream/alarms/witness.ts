/**
 * A beat another signal showed: a pulse of the arterial pressure or pleth, or a QRS complex of
 * the second ECG lead; its time (bed stream time, s) and its strength (the pulse's upstroke, the
 * QRS's amplitude).
 */
export interface WitnessedBeat {
  readonly timeS: number;
  readonly strength: number;
}

export interface WitnessConfig {
  /** Beats kept, s: the typical strength is taken over them. */
  readonly historyS: number;
  /** A beat at least this share of the typical strength counts as one (a weak ripple does not)... */
  readonly minStrength: number;
  /** ...and the signal must have shown at least this many beats in its history to witness at all. */
  readonly minHistoryPulses: number;
  /** Beats over a stretch needed to give its rate. */
  readonly minPulses: number;
}

export const DEFAULT_WITNESS: WitnessConfig = {
  historyS: 60,
  minStrength: 0.4,
  minHistoryPulses: 10,
  minPulses: 3,
};

/** What the witness showed over a stretch of time. */
export interface WitnessAccount {
  /** The signal it was read from (PLETH, ABP, V). */
  readonly signal: string;
  /** Beats of at least `minStrength` of the typical one. */
  readonly beats: number;
  /** Their rate (bpm, median interval), where there were `minPulses` or more. */
  readonly rateBpm: number | undefined;
}

/**
 * A second witness of a bed's heart beside the ECG lead the alarms are judged on: the pulse of
 * its arterial pressure or pleth, or the QRS complexes of its second ECG lead. A pulse present
 * while the ECG shows no QRS, or a rate far from the analysed lead's, says an alarm is artefact;
 * no pulse confirms asystole and ventricular fibrillation. It witnesses only while its signal can
 * be read and has shown a train of beats before (a probe off, or a signal its detector cannot
 * follow, withholds nothing).
 */
export class Witness {
  readonly signal: string;
  private readonly config: WitnessConfig;
  private beats: WitnessedBeat[] = [];
  /** Where the signal has been readable since (stream time, s), while it is. */
  private readableSince: number | undefined;

  constructor(signal: string, config: WitnessConfig = DEFAULT_WITNESS) {
    this.signal = signal;
    this.config = config;
  }

  /** Beats found, in time order, up to `nowS`. */
  onBeats(beats: readonly WitnessedBeat[], nowS: number): void {
    this.beats.push(...beats);
    const from = nowS - this.config.historyS;
    let drop = 0;
    while (drop < this.beats.length && this.beats[drop]!.timeS < from) drop++;
    if (drop > 0) this.beats.splice(0, drop);
  }

  /** Whether the signal can be read now (not off, flat or saturated), at stream time `nowS`. */
  onSignal(readable: boolean, nowS: number): void {
    if (!readable) this.readableSince = undefined;
    else this.readableSince ??= nowS;
  }

  /**
   * What the signal showed from `fromS` to `toS`, or undefined where it cannot witness: it was not
   * readable all that time, or it has not shown a train of beats to judge strength by.
   */
  account(fromS: number, toS: number): WitnessAccount | undefined {
    if (this.readableSince === undefined || this.readableSince > fromS) return undefined;
    const before = this.beats.filter((p) => p.timeS < fromS);
    if (before.length < this.config.minHistoryPulses) return undefined;
    const strengths = before.map((p) => p.strength).sort((a, b) => a - b);
    const typical = strengths[Math.floor(strengths.length / 2)]!;
    const within = this.beats.filter(
      (p) => p.timeS >= fromS && p.timeS <= toS && p.strength >= this.config.minStrength * typical,
    );
    let rateBpm: number | undefined;
    if (within.length >= this.config.minPulses) {
      const rr = within
        .slice(1)
        .map((p, i) => p.timeS - within[i]!.timeS)
        .sort((a, b) => a - b);
      rateBpm = 60 / rr[Math.floor(rr.length / 2)]!;
    }
    return { signal: this.signal, beats: within.length, rateBpm };
  }

  reset(): void {
    this.beats = [];
    this.readableSince = undefined;
  }
}
