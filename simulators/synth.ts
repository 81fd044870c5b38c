import { ConfigError } from '../stream/contracts/errors.js';
import { INVALID_SAMPLE } from '../stream/contracts/frame.js';
import { gaussian, seededRandom } from '../stream/model/random.js';
import type { Annotation, WfdbRecord, WfdbSignalSpec } from '../stream/wfdb/index.js';

/**
 * Synthetic ECG in the manner of McSharry et al. (IEEE TBME 2003, "A dynamical model for
 * generating synthetic electrocardiogram signals"): every beat is a sum of Gaussian waves
 * (P, Q, R, S, T) placed at fixed angles of the cardiac cycle, which is the closed form of
 * the model's z-equation for one turn of its limit cycle. The RR tachogram carries the two
 * spectral peaks of heart-rate variability (Mayer waves near 0.1 Hz, respiratory sinus
 * arrhythmia near 0.25 Hz), wave positions follow the RR like a Bazett-corrected QT, and the
 * baseline breathes. Events replace the rhythm for a while: ectopic beats with a wide QRS and
 * discordant T, runs of them, pauses, asystole, atrial fibrillation (no P waves, irregular RR,
 * fibrillatory f-waves), lead off and muscle-noise bursts. Every beat is annotated with its
 * MIT-BIH symbol and every rhythm change with its MIT-BIH aux string, so synthetic beds are
 * scored exactly like replayed records.
 */
export const SYNTH_EVENT_KINDS = ['pvc', 'couplet', 'vt', 'pause', 'asystole', 'af', 'lead-off', 'noise'] as const;
export type SynthEventKind = (typeof SYNTH_EVENT_KINDS)[number];

export interface SynthEvent {
  readonly kind: SynthEventKind;
  readonly atS: number;
  /** Beats for `vt`; seconds for `pause`, `asystole`, `af`, `lead-off`, `noise`; unused otherwise. */
  readonly size: number;
}

export interface SynthConfig {
  readonly sampleRate: number;
  readonly durationS: number;
  readonly heartRateBpm: number;
  /** Standard deviation of the RR tachogram around its mean, s (the HRV). */
  readonly rrStdS: number;
  /** White measurement noise, mV RMS. */
  readonly noiseMv: number;
  readonly seed: number;
  readonly events: readonly SynthEvent[];
}

export const DEFAULT_SYNTH: SynthConfig = {
  sampleRate: 250,
  durationS: 300,
  heartRateBpm: 72,
  rrStdS: 0.04,
  noiseMv: 0.01,
  seed: 1,
  events: [],
};

/** What the defaults of `size` mean per kind when the event text leaves it out. */
const DEFAULT_SIZE: Readonly<Record<SynthEventKind, number>> = {
  pvc: 1,
  couplet: 2,
  vt: 8,
  pause: 2.6,
  asystole: 6,
  af: 60,
  'lead-off': 5,
  noise: 10,
};

/** A script that exercises every event within five minutes (`--events demo`). */
export const DEMO_EVENTS = 'pvc@20,couplet@40,vt@60:8,pause@90,af@110:50,asystole@180:6,lead-off@210:5,noise@240:8';

/** Parses `kind@atS[:size]` items separated by commas, e.g. `vt@60:8,asystole@120:6`. */
export function parseSynthEvents(text: string): SynthEvent[] {
  if (text.trim() === '') return [];
  const spec = text.trim() === 'demo' ? DEMO_EVENTS : text;
  return spec.split(',').map((item) => {
    const match = /^\s*([a-z-]+)@(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?\s*$/.exec(item);
    const kind = match?.[1] as SynthEventKind | undefined;
    if (match === null || kind === undefined || !SYNTH_EVENT_KINDS.includes(kind)) {
      throw new ConfigError(
        `synthetic event "${item.trim()}": write kind@seconds[:size] with kind one of ${SYNTH_EVENT_KINDS.join(', ')}`,
      );
    }
    const size = match[3] === undefined ? DEFAULT_SIZE[kind] : Number(match[3]);
    if (!(size > 0)) throw new ConfigError(`synthetic event "${item.trim()}": size must be positive`);
    return { kind, atS: Number(match[2]), size };
  });
}

/** One Gaussian wave: offset from the R peak (s, at RR 1 s), width (s), amplitude (mV). */
interface Wave {
  readonly offsetS: number;
  readonly widthS: number;
  readonly mv: number;
}

// lead II-like morphology: P, Q, R, S, T
const SINUS: readonly Wave[] = [
  { offsetS: -0.2, widthS: 0.025, mv: 0.15 },
  { offsetS: -0.028, widthS: 0.01, mv: -0.12 },
  { offsetS: 0, widthS: 0.011, mv: 1.2 },
  { offsetS: 0.028, widthS: 0.011, mv: -0.25 },
  { offsetS: 0.3, widthS: 0.05, mv: 0.3 },
];
// ventricular ectopic: no P, wide and tall QRS, deep S, T opposite to the QRS
const VENTRICULAR: readonly Wave[] = [
  { offsetS: -0.02, widthS: 0.03, mv: 0.5 },
  { offsetS: 0.01, widthS: 0.035, mv: 1.3 },
  { offsetS: 0.08, widthS: 0.035, mv: -0.7 },
  { offsetS: 0.32, widthS: 0.07, mv: -0.45 },
];
const WITHOUT_P = SINUS.slice(1);

type BeatKind = 'sinus' | 'ventricular' | 'fibrillation';

interface ScheduledBeat {
  readonly timeS: number;
  readonly kind: BeatKind;
  readonly rrS: number;
  /** MIT-BIH rhythm (aux) in force at this beat. */
  readonly rhythm: string;
}

interface Span {
  readonly fromS: number;
  readonly toS: number;
}

function spans(events: readonly SynthEvent[], kind: SynthEventKind): Span[] {
  return events.filter((e) => e.kind === kind).map((e) => ({ fromS: e.atS, toS: e.atS + e.size }));
}

const within = (list: readonly Span[], t: number): Span | undefined => list.find((s) => t >= s.fromS && t < s.toS);

/** The beat times: a modulated sinus tachogram, interrupted by the events. */
function scheduleBeats(config: SynthConfig, random: () => number): ScheduledBeat[] {
  const meanRr = 60 / config.heartRateBpm;
  // two-peak HRV spectrum; amplitudes share the variance, a small random part keeps it aperiodic
  const phaseLf = 2 * Math.PI * random();
  const phaseHf = 2 * Math.PI * random();
  const amp = config.rrStdS * Math.SQRT2 * 0.6;
  const sinusRr = (t: number): number =>
    meanRr +
    amp * Math.sin(2 * Math.PI * 0.1 * t + phaseLf) +
    amp * Math.sin(2 * Math.PI * 0.25 * t + phaseHf) +
    config.rrStdS * 0.4 * gaussian(random);
  const af = spans(config.events, 'af');
  const asystole = spans(config.events, 'asystole');
  const ectopic = config.events
    .filter((e) => e.kind === 'pvc' || e.kind === 'couplet' || e.kind === 'vt')
    .sort((a, b) => a.atS - b.atS);
  const pauses = config.events.filter((e) => e.kind === 'pause').sort((a, b) => a.atS - b.atS);
  const beats: ScheduledBeat[] = [];
  let t = 0.4;
  let last = -Infinity;
  const push = (timeS: number, kind: BeatKind, rhythm: string): void => {
    if (timeS >= config.durationS - 0.5) return;
    beats.push({ timeS, kind, rrS: timeS - last, rhythm });
    last = timeS;
  };
  while (t < config.durationS - 0.5) {
    const silent = within(asystole, t);
    if (silent !== undefined) {
      t = silent.toS + 0.3 * meanRr;
      continue;
    }
    const fib = within(af, t) !== undefined;
    const underlying = fib ? '(AFIB' : '(N';
    const event = ectopic[0];
    if (event !== undefined && t >= event.atS) {
      ectopic.shift();
      const count = event.kind === 'pvc' ? 1 : event.kind === 'couplet' ? 2 : Math.round(event.size);
      // premature by a third of the cycle; runs go on at 167 bpm; MIT-BIH calls 3 or more VT
      const sinusBefore = Number.isFinite(last) ? last : t - meanRr;
      let v = sinusBefore + 0.62 * meanRr;
      for (let k = 0; k < count; k++) {
        push(v, 'ventricular', count >= 3 ? '(VT' : underlying);
        v += count === 2 ? 0.45 : 0.36;
      }
      // a single PVC leaves the sinus node alone: full compensatory pause
      t = count === 1 ? sinusBefore + 2 * meanRr : last + 1.3 * meanRr;
      continue;
    }
    const pause = pauses[0];
    if (pause !== undefined && t >= pause.atS) {
      pauses.shift();
      t = last + pause.size;
      continue;
    }
    push(t, fib ? 'fibrillation' : 'sinus', underlying);
    // AF: an irregularly irregular ventricular response around a faster mean
    t += fib ? meanRr * 0.8 * (0.55 + 0.9 * random()) : sinusRr(t);
  }
  return beats;
}

/** A synthetic one-lead (MLII) record and its reference annotations. */
export function synthesizeRecord(config: SynthConfig): { record: WfdbRecord; annotations: Annotation[] } {
  if (!(config.sampleRate >= 100 && config.sampleRate <= 2000))
    throw new ConfigError(`synthetic ECG: sample rate ${config.sampleRate} Hz is outside 100..2000`);
  if (!(config.durationS > 1)) throw new ConfigError('synthetic ECG: duration must exceed 1 s');
  if (!(config.heartRateBpm >= 20 && config.heartRateBpm <= 250))
    throw new ConfigError(`synthetic ECG: heart rate ${config.heartRateBpm} bpm is outside 20..250`);
  const random = seededRandom(config.seed);
  const fs = config.sampleRate;
  const n = Math.round(config.durationS * fs);
  const mv = new Float64Array(n);
  const beats = scheduleBeats(config, random);
  for (const beat of beats) {
    const waves = beat.kind === 'ventricular' ? VENTRICULAR : beat.kind === 'fibrillation' ? WITHOUT_P : SINUS;
    // QT and the PR segment follow the square root of the cycle length (Bazett, as McSharry scales)
    const stretch = Math.sqrt(Math.min(Math.max(beat.rrS, 0.3), 2));
    for (const w of waves) {
      const centre = beat.timeS + (Math.abs(w.offsetS) > 0.1 ? w.offsetS * stretch : w.offsetS);
      const width = Math.abs(w.offsetS) > 0.1 ? w.widthS * stretch : w.widthS;
      const from = Math.max(0, Math.floor((centre - 5 * width) * fs));
      const to = Math.min(n - 1, Math.ceil((centre + 5 * width) * fs));
      for (let i = from; i <= to; i++) mv[i] = mv[i]! + w.mv * Math.exp(-(((i / fs - centre) / width) ** 2) / 2);
    }
  }
  // f-waves of atrial fibrillation: 5-7 Hz, wandering in frequency and amplitude
  for (const span of spans(config.events, 'af')) {
    let phase = 0;
    for (let i = Math.floor(span.fromS * fs); i < Math.min(n, span.toS * fs); i++) {
      const t = i / fs;
      phase += (2 * Math.PI * (6 + Math.sin(2 * Math.PI * 0.13 * t))) / fs;
      mv[i] = mv[i]! + 0.05 * (1 + 0.4 * Math.sin(2 * Math.PI * 0.31 * t)) * Math.sin(phase);
    }
  }
  const noisy = spans(config.events, 'noise');
  const off = spans(config.events, 'lead-off');
  const breathing = 2 * Math.PI * random();
  let emg = 0;
  const digital = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / fs;
    if (within(off, t) !== undefined) {
      digital[i] = INVALID_SAMPLE; // electrode off: the device marks the samples it cannot measure
      continue;
    }
    let v = mv[i]! + 0.08 * Math.sin(2 * Math.PI * 0.25 * t + breathing) + config.noiseMv * gaussian(random);
    if (within(noisy, t) !== undefined) {
      // muscle artefact: broadband noise, roughly as large as the QRS
      emg = 0.6 * emg + 0.35 * gaussian(random);
      v += emg;
    }
    digital[i] = Math.max(INVALID_SAMPLE + 1, Math.min(32767, Math.round(v * GAIN)));
  }
  return {
    record: { header: header(config, n), signals: [{ spec: SIGNAL, digital }] },
    annotations: annotate(beats, off, fs),
  };
}

const GAIN = 200;
const SIGNAL: WfdbSignalSpec = {
  fileName: 'synthetic',
  format: 16,
  byteOffset: 0,
  gain: GAIN,
  baseline: 0,
  units: 'mV',
  adcResolution: 16,
  adcZero: 0,
  initialValue: undefined,
  checksum: undefined,
  blockSize: 0,
  description: 'MLII',
};

function header(config: SynthConfig, n: number): WfdbRecord['header'] {
  return {
    recordName: `synth-${config.seed}`,
    samplingFrequency: config.sampleRate,
    sampleCount: n,
    baseTime: undefined,
    baseDate: undefined,
    signals: [SIGNAL],
    comments: [`synthetic ECG, ${config.heartRateBpm} bpm, seed ${config.seed}`],
  };
}

const BEAT_CODE: Readonly<Record<BeatKind, { symbol: string; code: number }>> = {
  sinus: { symbol: 'N', code: 1 },
  fibrillation: { symbol: 'N', code: 1 },
  ventricular: { symbol: 'V', code: 5 },
};
const RHYTHM_CODE = 28;

/** Beat annotations, and rhythm annotations where the rhythm changes (MIT-BIH aux strings). */
function annotate(beats: readonly ScheduledBeat[], off: readonly Span[], fs: number): Annotation[] {
  const out: Annotation[] = [];
  let rhythm = '';
  for (const b of beats) {
    // nobody can annotate a beat the lead did not record
    if (within(off, b.timeS) !== undefined) continue;
    const sample = Math.round(b.timeS * fs);
    if (b.rhythm !== rhythm) {
      out.push({ sample, code: RHYTHM_CODE, symbol: '+', subtype: 0, channel: 0, num: 0, aux: b.rhythm });
      rhythm = b.rhythm;
    }
    out.push({ sample, ...BEAT_CODE[b.kind], subtype: 0, channel: 0, num: 0, aux: '' });
  }
  return out;
}

/**
 * `count` synthetic beds, each its own patient: seeds 1..count, resting rates spread over
 * 58-96 bpm, the same event script (relative to each bed's start).
 */
export function synthBeds(count: number, base: Partial<SynthConfig> = {}): { bedId: string; synth: SynthConfig }[] {
  return Array.from({ length: count }, (_, i) => ({
    bedId: `synth-${String(i + 1).padStart(2, '0')}`,
    synth: {
      ...DEFAULT_SYNTH,
      heartRateBpm: 58 + ((i * 13) % 39),
      ...base,
      seed: (base.seed ?? 0) + i + 1,
    },
  }));
}
