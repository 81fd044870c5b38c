import { INVALID_SAMPLE } from '../contracts/frame.js';
import { WfdbSignalError } from './errors.js';
import type { WfdbHeader, WfdbSignalSpec } from './header.js';

/** Storage facts per WFDB format: how many bytes hold how many samples. */
interface FormatFacts {
  readonly bytesPerGroup: number;
  readonly samplesPerGroup: number;
  /** The stored value WFDB reserves for a sample the device could not measure. */
  readonly invalid: number;
  readonly decode: (bytes: Uint8Array, sampleCount: number) => Int16Array;
}

/**
 * Format 212: two 12-bit two's-complement samples packed in three bytes. The first sample
 * is byte 0 plus the low nibble of byte 1; the second is byte 2 plus the high nibble of byte 1.
 */
export function decode212(bytes: Uint8Array, sampleCount: number): Int16Array {
  const out = new Int16Array(sampleCount);
  let b = 0;
  for (let i = 0; i < sampleCount; i += 2) {
    const b0 = bytes[b] ?? 0;
    const b1 = bytes[b + 1] ?? 0;
    const first = b0 | ((b1 & 0x0f) << 8);
    out[i] = first > 2047 ? first - 4096 : first;
    if (i + 1 < sampleCount) {
      const second = (bytes[b + 2] ?? 0) | ((b1 & 0xf0) << 4);
      out[i + 1] = second > 2047 ? second - 4096 : second;
    }
    b += 3;
  }
  return out;
}

/** Format 16: 16-bit two's-complement samples, little-endian. */
export function decode16(bytes: Uint8Array, sampleCount: number): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(sampleCount);
  for (let i = 0; i < sampleCount; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

/** Inverse of decode212, used to write test fixtures and simulators' files. */
export function encode212(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(samples.length / 2) * 3);
  let b = 0;
  for (let i = 0; i < samples.length; i += 2) {
    const first = (samples[i] ?? 0) & 0xfff;
    const second = (samples[i + 1] ?? 0) & 0xfff;
    out[b] = first & 0xff;
    out[b + 1] = ((first >> 8) & 0x0f) | ((second >> 4) & 0xf0);
    out[b + 2] = second & 0xff;
    b += 3;
  }
  return samples.length % 2 === 1 ? out.subarray(0, out.length - 1) : out;
}

const FORMATS: Readonly<Record<number, FormatFacts>> = {
  212: { bytesPerGroup: 3, samplesPerGroup: 2, invalid: -2048, decode: decode212 },
  16: { bytesPerGroup: 2, samplesPerGroup: 1, invalid: INVALID_SAMPLE, decode: decode16 },
};

function formatFacts(file: string, format: number): FormatFacts {
  const facts = FORMATS[format];
  if (facts === undefined) {
    const known = Object.keys(FORMATS).join(', ');
    throw new WfdbSignalError(file, `format ${format} is not supported (supported: ${known})`);
  }
  return facts;
}

/** Bytes needed to hold `sampleCount` interleaved samples in a format. */
function bytesFor(facts: FormatFacts, sampleCount: number): number {
  const groups = Math.floor(sampleCount / facts.samplesPerGroup);
  const rest = sampleCount % facts.samplesPerGroup;
  // a trailing odd 212 sample takes two of the group's three bytes
  return groups * facts.bytesPerGroup + (rest === 0 ? 0 : facts.bytesPerGroup - 1);
}

/** WFDB's signal checksum: the sum of all samples modulo 2^16, read as a signed 16-bit value. */
export function wfdbChecksum(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum = (sum + (samples[i] ?? 0)) & 0xffff;
  return sum > 32767 ? sum - 65536 : sum;
}

/**
 * One signal of a record in digital ADC units with the facts to convert it. A sample the device
 * could not measure (the format's invalid value) is INVALID_SAMPLE whatever the format.
 */
export interface WfdbSignal {
  readonly spec: WfdbSignalSpec;
  readonly digital: Int16Array;
}

/**
 * Decodes the signals stored in one signal file. `signalIndices` are the header indices of
 * the signals in this file, in their interleaving order.
 */
export function decodeSignalFile(
  header: WfdbHeader,
  signalIndices: readonly number[],
  bytes: Uint8Array,
  file: string,
  options: { verifyChecksums?: boolean } = {},
): WfdbSignal[] {
  const specs = signalIndices.map((i) => header.signals[i]).filter((s): s is WfdbSignalSpec => s !== undefined);
  const first = specs[0];
  if (first === undefined) return [];
  if (specs.some((s) => s.format !== first.format || s.byteOffset !== first.byteOffset)) {
    throw new WfdbSignalError(file, 'signals sharing one file must share format and byte offset');
  }
  const facts = formatFacts(file, first.format);
  const payload = bytes.subarray(Math.min(first.byteOffset, bytes.length));
  const nsig = specs.length;
  let frames = header.sampleCount;
  const available = Math.floor((payload.length / facts.bytesPerGroup) * facts.samplesPerGroup);
  if (frames === undefined) {
    frames = Math.floor(available / nsig);
  } else if (bytesFor(facts, frames * nsig) > payload.length) {
    throw new WfdbSignalError(
      file,
      `truncated: the header announces ${frames} samples per signal (${bytesFor(facts, frames * nsig)} bytes) ` +
        `but the file holds ${payload.length} bytes after its offset`,
    );
  }
  const interleaved = facts.decode(payload, frames * nsig);
  return specs.map((spec, s) => {
    const digital = new Int16Array(frames);
    for (let i = 0, j = s; i < frames; i++, j += nsig) digital[i] = interleaved[j] ?? 0;
    if (options.verifyChecksums !== false) verifySignal(file, spec, digital);
    for (let i = 0; i < frames; i++) if (digital[i] === facts.invalid) digital[i] = INVALID_SAMPLE;
    return { spec, digital };
  });
}

function verifySignal(file: string, spec: WfdbSignalSpec, digital: Int16Array): void {
  const label = spec.description || spec.fileName;
  if (spec.initialValue !== undefined && digital.length > 0 && digital[0] !== spec.initialValue) {
    throw new WfdbSignalError(
      file,
      `signal "${label}": first sample ${digital[0]} differs from the header's initial value ${spec.initialValue}`,
    );
  }
  if (spec.checksum !== undefined) {
    const checksum = wfdbChecksum(digital);
    if (checksum !== spec.checksum) {
      throw new WfdbSignalError(
        file,
        `signal "${label}": checksum ${checksum} differs from the header's ${spec.checksum} (corrupt or modified data)`,
      );
    }
  }
}

/** Converts digital samples to physical units: (d - baseline) / gain, NaN for an invalid sample. */
export function toPhysical(signal: WfdbSignal): Float32Array {
  const { gain, baseline } = signal.spec;
  const out = new Float32Array(signal.digital.length);
  for (let i = 0; i < out.length; i++) {
    const d = signal.digital[i]!;
    out[i] = d === INVALID_SAMPLE ? NaN : (d - baseline) / gain;
  }
  return out;
}
