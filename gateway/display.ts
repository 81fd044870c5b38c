import { DISPLAY_HZ } from '../stream/contracts/display.js';
import { leadPhysical, type SampleFrame } from '../stream/contracts/frame.js';
import { DEFAULT_ECG_FILTER, DEFAULT_RESAMPLER, EcgFilter, Resampler } from '../stream/dsp/index.js';

/** A display sample the gateway does not have (a gap in the bed's stream). */
export const MISSING = -32768;

/** One bed's chunk of a display frame: samples at 125 Hz, lead after lead, int16 µV. */
export interface DisplayChunk {
  readonly bedId: string;
  readonly seq: number;
  /** Index at 125 Hz of the first sample, on the bed's display time line. */
  readonly firstSample: number;
  readonly leads: readonly string[];
  /** `leads.length` × samples per lead, lead after lead. */
  readonly samples: Int16Array;
}

const MAGIC = [0x45, 0x43, 0x47, 0x44]; // "ECGD"
const VERSION = 1;
const utf8 = new TextEncoder();

/** The binary display frame of `docs/architecture.md` (`stream/contracts/display.ts` gives the layout). */
export function encodeDisplayFrame(chunks: readonly DisplayChunk[], snapshot = false): Uint8Array {
  const texts = chunks.map((c) => ({ bed: utf8.encode(c.bedId), leads: c.leads.map((l) => utf8.encode(l)) }));
  let size = 8;
  chunks.forEach((c, i) => {
    size += 1 + texts[i]!.bed.length + 4 + 8 + 1 + 2;
    for (const l of texts[i]!.leads) size += 1 + l.length;
    size += c.samples.length * 2;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, snapshot ? 1 : 0);
  view.setUint16(6, chunks.length, true);
  let o = 8;
  const putText = (t: Uint8Array): void => {
    out[o++] = t.length;
    out.set(t, o);
    o += t.length;
  };
  chunks.forEach((c, i) => {
    putText(texts[i]!.bed);
    view.setUint32(o, c.seq >>> 0, true);
    view.setFloat64(o + 4, c.firstSample, true);
    view.setUint8(o + 12, c.leads.length);
    view.setUint16(o + 13, c.samples.length / Math.max(1, c.leads.length), true);
    o += 15;
    for (const l of texts[i]!.leads) putText(l);
    for (let k = 0; k < c.samples.length; k++, o += 2) view.setInt16(o, c.samples[k]!, true);
  });
  return out;
}

const toMicrovolts = (mv: number): number => Math.max(-32767, Math.min(32767, Math.round(mv * 1000)));

/** The bed's last 10 minutes at 125 Hz: what the bed view scrolls through. */
export const HISTORY_S = 600;

/**
 * One bed's display signal: each ECG lead filtered as the monitor filters it (0.5–40 Hz, mains
 * notch) and resampled to 125 Hz, kept in a preallocated ring of the last 10 minutes (int16 µV).
 * The display time line starts at the bed's first frame and goes on across gaps, and a stretch a
 * lead's device marked invalid is MISSING there.
 */
export class BedDisplay {
  readonly bedId: string;
  /** The ECG leads shown, by name, and where each is among the frame's signals. */
  readonly leads: readonly string[];
  private readonly signalIndices: readonly number[];
  /** Each lead's last valid sample: what its filter is fed where a sample is invalid. */
  private readonly held: number[];
  private readonly history: Int16Array[];
  /** Display samples written so far (the next one's index). */
  private written = 0;
  /** Where each lead's new samples since the last `take` start. */
  private pendingFrom = 0;
  private readonly chains: { filter: EcgFilter; resampler: Resampler }[];
  private readonly sourceHz: number;
  /** The source sample the display time line starts at, and the next one expected. */
  private readonly origin: number;
  private nextSource: number;
  private seq = 0;

  constructor(first: SampleFrame) {
    this.bedId = first.bedId;
    this.signalIndices = first.leads.flatMap((l, i) => (l.kind === 'ecg' ? [i] : []));
    this.leads = this.signalIndices.map((i) => first.leads[i]!.name);
    this.held = this.leads.map(() => 0);
    this.sourceHz = first.sampleRate;
    this.origin = first.firstSample;
    this.nextSource = first.firstSample;
    this.history = this.leads.map(() => new Int16Array(HISTORY_S * DISPLAY_HZ).fill(MISSING));
    this.chains = this.leads.map(() => ({
      filter: new EcgFilter({ ...DEFAULT_ECG_FILTER, fs: first.sampleRate }),
      resampler: new Resampler({ ...DEFAULT_RESAMPLER, inputHz: first.sampleRate, outputHz: DISPLAY_HZ }),
    }));
  }

  /** Whether a frame continues this display (same rate and leads); another one needs a new BedDisplay. */
  fits(frame: SampleFrame): boolean {
    return (
      frame.sampleRate === this.sourceHz &&
      frame.leads
        .filter((l) => l.kind === 'ecg')
        .map((l) => l.name)
        .join('\n') === this.leads.join('\n')
    );
  }

  /** Display samples so far: the index the next one gets. */
  get end(): number {
    return this.written;
  }

  /** Adds a frame: its samples filtered and resampled to the display rate (frames lost before it leave MISSING). */
  push(frame: SampleFrame): void {
    if (frame.firstSample < this.nextSource) return; // already shown
    const skipped = frame.firstSample - this.nextSource;
    if (skipped > 0) {
      // the signal is missing there; the filters start again after it, as a monitor's do
      const missing = Math.round((skipped * DISPLAY_HZ) / this.sourceHz);
      for (let k = 0; k < missing; k++) this.write(this.leads.map(() => MISSING));
      this.chains.forEach((c) => {
        c.filter.reset();
        c.resampler.reset();
      });
    }
    this.nextSource = frame.firstSample + frame.samples.length / frame.leads.length;
    const outputs = this.chains.map((c, l) => {
      const x = leadPhysical(frame, this.signalIndices[l]!);
      let invalid = 0;
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i]!)) {
          x[i] = this.held[l]!;
          invalid++;
        } else this.held[l] = x[i]!;
      }
      const y = c.resampler.push(c.filter.push(x));
      // a frame the device marked mostly invalid is not drawn as signal
      return invalid * 2 >= x.length ? y.fill(Number.NaN) : y;
    });
    const n = Math.min(...outputs.map((o) => o.length));
    for (let k = 0; k < n; k++) this.write(outputs.map((o) => (Number.isNaN(o[k]!) ? MISSING : toMicrovolts(o[k]!))));
  }

  /** The samples since the last take, as a display chunk (undefined if none). */
  take(): DisplayChunk | undefined {
    const from = Math.max(this.pendingFrom, this.written - this.capacity);
    if (from >= this.written) return undefined;
    this.pendingFrom = this.written;
    return { ...this.range(from, this.written), seq: this.seq++ };
  }

  /** Samples from `from` to `to` (display indices, within the last 10 minutes), lead after lead. */
  range(from: number, to: number): Omit<DisplayChunk, 'seq'> {
    const start = Math.max(from, this.written - this.capacity, 0);
    const end = Math.min(to, this.written);
    const n = Math.max(0, end - start);
    const samples = new Int16Array(n * this.leads.length);
    this.history.forEach((h, l) => {
      for (let k = 0; k < n; k++) samples[l * n + k] = h[(start + k) % this.capacity]!;
    });
    return { bedId: this.bedId, firstSample: start, leads: this.leads, samples };
  }

  /** The display index of a source sample of the bed's stream. */
  displayIndexOf(sourceSample: number): number {
    return Math.round(((sourceSample - this.origin) * DISPLAY_HZ) / this.sourceHz);
  }

  private get capacity(): number {
    return this.history[0]!.length;
  }

  private write(values: readonly number[]): void {
    const at = this.written % this.capacity;
    values.forEach((v, l) => (this.history[l]![at] = v));
    this.written++;
  }
}
