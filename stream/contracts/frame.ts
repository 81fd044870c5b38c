import { MonitorError } from './errors.js';
import { SIGNAL_KINDS, signalKindOf, type SignalKind } from './signals.js';

/** What a malformed frame was: a stable code for once-per-kind warnings and counters. */
export type FrameErrorCode =
  'too-short' | 'bad-magic' | 'unsupported-version' | 'bad-field' | 'truncated' | 'trailing-bytes';

export class FrameDecodeError extends MonitorError {
  readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string) {
    super(`ecg.samples frame: ${message}`, { retriable: false });
    this.code = code;
  }
}

/**
 * One signal of a bed: an ECG lead, or a pulsatile or respiratory signal recorded beside them.
 * `units` is what the physical values are in (`mV` for an ECG lead, `mmHg`, `NU`).
 */
export interface LeadInfo {
  readonly name: string;
  readonly kind: SignalKind;
  readonly units: string;
  /** ADC units per physical unit. */
  readonly gain: number;
  /** ADC value of 0 physical units. */
  readonly baseline: number;
}

/**
 * The sample value that marks a sample the device could not measure (WFDB's invalid sample in
 * 16-bit formats): read as missing, never as a voltage.
 */
export const INVALID_SAMPLE = -32768;

/** One `ecg.samples` message: a few hundred ms of every signal of one bed. */
export interface SampleFrame {
  readonly bedId: string;
  /** Where the signal comes from, e.g. `mitdb/208`, `synth/3`, `device/ab12`. */
  readonly source: string;
  readonly sampleRate: number;
  /** Every signal the bed sends, ECG leads first or not: their kinds say which is which. */
  readonly leads: readonly LeadInfo[];
  /** Per bed, +1 per frame: gaps, duplicates and reordering are detected from it. */
  readonly seq: number;
  /** Index (per bed, at sampleRate) of this frame's first sample. */
  readonly firstSample: number;
  /** Producer wall clock, ms since the epoch. */
  readonly producedAtMs: number;
  /** Samples interleaved by lead: frame i, lead l at [i * leads.length + l]; INVALID_SAMPLE where missing. */
  readonly samples: Int16Array;
}

/**
 * Where a bed's stream goes on: the seq and first sample index of its next frame. A bed's
 * numbering never goes back, across producer restarts too: the pipeline drops a frame numbered
 * below what it has seen of the bed as a duplicate, and identifies beats and alarms by the bed's
 * sample index.
 */
export interface StreamPosition {
  readonly seq: number;
  readonly sample: number;
}

/** The position just after `frame`. */
export function positionAfter(frame: SampleFrame): StreamPosition {
  return { seq: frame.seq + 1, sample: frame.firstSample + frame.samples.length / frame.leads.length };
}

// "ECGF" + version byte. Layout, little-endian:
//   0  magic u8[4]     4 version u8     5 lead count u8   6 samples per lead u16
//   8  sample rate f32 12 seq u32       16 first sample f64   24 produced-at ms f64
//   32 bed id (u8 length + UTF-8), source (u8 length + UTF-8), then per lead
//      v1: name (u8 length + UTF-8), gain f32, baseline i32 (every lead in mV, its kind from its name)
//      v2: name (u8 length + UTF-8), kind u8 (index in SIGNAL_KINDS), units (u8 length + UTF-8),
//          gain f32, baseline i32
//      then samples i16 x lead count x samples per lead
const MAGIC = [0x45, 0x43, 0x47, 0x46] as const;
/** The version `encodeFrame` writes; `decodeFrame` reads it and every earlier one. */
export const FRAME_VERSION = 2;
const FIXED = 32;
const MAX_TEXT = 255;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(frame: SampleFrame): Uint8Array {
  const leads = frame.leads.length;
  if (leads < 1 || leads > 255) throw new RangeError(`a frame holds 1..255 leads, not ${leads}`);
  if (frame.samples.length % leads !== 0) throw new RangeError('samples must hold the same count for every lead');
  const perLead = frame.samples.length / leads;
  if (perLead > 0xffff) throw new RangeError(`at most 65535 samples per lead in a frame, not ${perLead}`);
  const text = (t: string): Uint8Array => {
    const bytes = utf8.encode(t);
    if (bytes.length > MAX_TEXT) throw new RangeError(`"${t.slice(0, 20)}…" is longer than ${MAX_TEXT} bytes`);
    return bytes;
  };
  const bedId = text(frame.bedId);
  const source = text(frame.source);
  const leadTexts = frame.leads.map((l) => ({ name: text(l.name), units: text(l.units) }));
  const size =
    FIXED +
    2 +
    bedId.length +
    source.length +
    leadTexts.reduce((n, t) => n + 1 + t.name.length + 1 + 1 + t.units.length + 8, 0) +
    frame.samples.length * 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, FRAME_VERSION);
  view.setUint8(5, leads);
  view.setUint16(6, perLead, true);
  view.setFloat32(8, frame.sampleRate, true);
  view.setUint32(12, frame.seq >>> 0, true);
  view.setFloat64(16, frame.firstSample, true);
  view.setFloat64(24, frame.producedAtMs, true);
  let o = FIXED;
  const putText = (t: Uint8Array): void => {
    out[o++] = t.length;
    out.set(t, o);
    o += t.length;
  };
  putText(bedId);
  putText(source);
  frame.leads.forEach((lead, i) => {
    putText(leadTexts[i]!.name);
    const kind = SIGNAL_KINDS.indexOf(lead.kind);
    if (kind < 0) throw new RangeError(`lead ${lead.name}: unknown signal kind "${lead.kind}"`);
    out[o++] = kind;
    putText(leadTexts[i]!.units);
    view.setFloat32(o, lead.gain, true);
    view.setInt32(o + 4, lead.baseline, true);
    o += 8;
  });
  for (let i = 0; i < frame.samples.length; i++, o += 2) view.setInt16(o, frame.samples[i]!, true);
  return out;
}

/** Decodes and validates a frame; anything malformed is a FrameDecodeError with a code. */
export function decodeFrame(bytes: Uint8Array): SampleFrame {
  if (bytes.length < FIXED) throw new FrameDecodeError('too-short', `${bytes.length} bytes, a header needs ${FIXED}`);
  if (MAGIC.some((m, i) => bytes[i] !== m)) throw new FrameDecodeError('bad-magic', 'does not start with "ECGF"');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version < 1 || version > FRAME_VERSION)
    throw new FrameDecodeError('unsupported-version', `version ${version}; this decoder reads 1 to ${FRAME_VERSION}`);
  const leadCount = view.getUint8(5);
  const perLead = view.getUint16(6, true);
  const sampleRate = view.getFloat32(8, true);
  const seq = view.getUint32(12, true);
  const firstSample = view.getFloat64(16, true);
  const producedAtMs = view.getFloat64(24, true);
  if (leadCount === 0) throw new FrameDecodeError('bad-field', 'lead count is 0');
  if (!(sampleRate > 0 && sampleRate < 100_000)) throw new FrameDecodeError('bad-field', `sample rate ${sampleRate}`);
  if (!Number.isSafeInteger(firstSample) || firstSample < 0)
    throw new FrameDecodeError('bad-field', `first sample ${firstSample}`);
  if (!Number.isFinite(producedAtMs)) throw new FrameDecodeError('bad-field', 'producer time is not a number');
  let o = FIXED;
  const text = (what: string): string => {
    if (o >= bytes.length) throw new FrameDecodeError('truncated', `ends before the ${what}`);
    const n = bytes[o]!;
    if (o + 1 + n > bytes.length) throw new FrameDecodeError('truncated', `ends inside the ${what}`);
    let s: string;
    try {
      s = fromUtf8.decode(bytes.subarray(o + 1, o + 1 + n));
    } catch {
      throw new FrameDecodeError('bad-field', `${what} is not UTF-8`);
    }
    o += 1 + n;
    return s;
  };
  const bedId = text('bed id');
  if (bedId.length === 0) throw new FrameDecodeError('bad-field', 'empty bed id');
  const source = text('source');
  const leads: LeadInfo[] = [];
  for (let l = 0; l < leadCount; l++) {
    const name = text(`name of lead ${l}`);
    let kind: SignalKind;
    let units = 'mV';
    if (version === 1) kind = signalKindOf(name, units);
    else {
      if (o >= bytes.length) throw new FrameDecodeError('truncated', `ends before lead ${name}'s kind`);
      const k = SIGNAL_KINDS[bytes[o]!];
      if (k === undefined) throw new FrameDecodeError('bad-field', `lead ${name}: signal kind ${bytes[o]}`);
      kind = k;
      o++;
      units = text(`units of lead ${name}`);
    }
    if (o + 8 > bytes.length) throw new FrameDecodeError('truncated', `ends inside lead ${l}'s gain and baseline`);
    const gain = view.getFloat32(o, true);
    if (!(gain > 0 && Number.isFinite(gain))) throw new FrameDecodeError('bad-field', `lead ${name}: gain ${gain}`);
    leads.push({ name, kind, units, gain, baseline: view.getInt32(o + 4, true) });
    o += 8;
  }
  const expected = o + leadCount * perLead * 2;
  if (bytes.length < expected)
    throw new FrameDecodeError('truncated', `${bytes.length} bytes, the header announces ${expected}`);
  if (bytes.length > expected)
    throw new FrameDecodeError('trailing-bytes', `${bytes.length - expected} bytes after the samples`);
  const samples = new Int16Array(leadCount * perLead);
  for (let i = 0; i < samples.length; i++, o += 2) samples[i] = view.getInt16(o, true);
  return { bedId, source, sampleRate, leads, seq, firstSample, producedAtMs, samples };
}

/**
 * What a frame may hold and still be a bed's signal: beyond these a frame is refused before it
 * reaches the bed (DSP set-up, amplitudes and alarms would be nonsense, or ruinous to build).
 */
export const FRAME_LIMITS = {
  /** Hz: the 0.5–40 Hz band must fit under Nyquist with margin; devices record 125–1000 Hz. */
  minSampleRate: 100,
  maxSampleRate: 2000,
  /** Longest frame, s (frames are 250 ms by default). */
  maxFrameS: 10,
  maxLeads: 16,
  /** ADC units per physical unit: a gain outside gives amplitudes no body makes (1e-44: infinite mV). */
  minGain: 0.01,
  maxGain: 1e6,
  /** Samples are int16: an ADC zero outside their range puts every sample off the scale. */
  minBaseline: -32768,
  maxBaseline: 32767,
  maxLeadName: 32,
  maxUnits: 16,
  maxBedId: 64,
} as const;

/** Why a frame that decodes cannot be a bed's signal: a stable code for counters and once-only warnings. */
export type FrameProblemCode =
  'bed-id' | 'sample-rate' | 'sample-count' | 'lead-count' | 'lead-name' | 'units' | 'no-ecg' | 'gain' | 'baseline';

export interface FrameProblem {
  readonly code: FrameProblemCode;
  /** One line a nurse's technical alarm and the log can show, e.g. "sample rate 50 Hz below 100 Hz". */
  readonly reason: string;
}

const BED_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const PRINTABLE = /^[\x20-\x7e\u00a0-\uffff]+$/;

/** The first way a decoded frame falls outside FRAME_LIMITS, or undefined for a usable one. */
export function frameProblem(frame: SampleFrame): FrameProblem | undefined {
  const L = FRAME_LIMITS;
  const problem = (code: FrameProblemCode, reason: string): FrameProblem => ({ code, reason });
  if (frame.bedId.length > L.maxBedId || !BED_ID.test(frame.bedId))
    return problem(
      'bed-id',
      `bed id "${frame.bedId.slice(0, 80)}" is not 1 to ${L.maxBedId} letters, digits or . _ : / -`,
    );
  const rate = frame.sampleRate;
  if (!(rate >= L.minSampleRate)) return problem('sample-rate', `sample rate ${rate} Hz below ${L.minSampleRate} Hz`);
  if (!(rate <= L.maxSampleRate)) return problem('sample-rate', `sample rate ${rate} Hz above ${L.maxSampleRate} Hz`);
  if (frame.leads.length > L.maxLeads)
    return problem('lead-count', `${frame.leads.length} leads, at most ${L.maxLeads}`);
  const perLead = frame.samples.length / frame.leads.length;
  if (perLead === 0) return problem('sample-count', 'no samples');
  if (perLead > rate * L.maxFrameS)
    return problem('sample-count', `${perLead} samples per lead, more than ${L.maxFrameS} s at ${rate} Hz`);
  const names = new Set<string>();
  for (const lead of frame.leads) {
    if (lead.name.length === 0 || lead.name.length > L.maxLeadName || !PRINTABLE.test(lead.name))
      return problem(
        'lead-name',
        `lead name "${lead.name.slice(0, 40)}" is not 1 to ${L.maxLeadName} printable characters`,
      );
    if (names.has(lead.name)) return problem('lead-name', `lead ${lead.name} appears twice`);
    names.add(lead.name);
    if (lead.units.length > L.maxUnits || !(lead.units === '' || PRINTABLE.test(lead.units)))
      return problem(
        'units',
        `lead ${lead.name}: units "${lead.units.slice(0, 40)}" are not up to ${L.maxUnits} printable characters`,
      );
    if (!(lead.gain >= L.minGain && lead.gain <= L.maxGain))
      return problem(
        'gain',
        `lead ${lead.name}: gain ${lead.gain} outside ${L.minGain} to ${L.maxGain} ADC units per mV`,
      );
    if (!(lead.baseline >= L.minBaseline && lead.baseline <= L.maxBaseline))
      return problem('baseline', `lead ${lead.name}: baseline ${lead.baseline} outside the int16 samples' range`);
  }
  if (!frame.leads.some((l) => l.kind === 'ecg'))
    return problem('no-ecg', `no ECG lead among ${frame.leads.map((l) => `${l.name} (${l.kind})`).join(', ')}`);
  return undefined;
}

/** A lead's samples in its physical units (mV for an ECG lead); NaN where a sample is invalid. */
export function leadPhysical(frame: SampleFrame, lead: number): Float32Array {
  const n = frame.leads.length;
  const { gain, baseline } = frame.leads[lead]!;
  const out = new Float32Array(frame.samples.length / n);
  for (let i = 0; i < out.length; i++) {
    const d = frame.samples[i * n + lead]!;
    out[i] = d === INVALID_SAMPLE ? NaN : (d - baseline) / gain;
  }
  return out;
}
