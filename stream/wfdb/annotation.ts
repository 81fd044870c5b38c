import { WfdbAnnotationError } from './errors.js';

/**
 * MIT annotation codes (WFDB `ecgcodes.h`) with their mnemonic symbols. Codes 42..49 are
 * user-defined and have no standard symbol.
 */
export const ANNOTATION_SYMBOLS: Readonly<Record<number, string>> = {
  1: 'N',
  2: 'L',
  3: 'R',
  4: 'a',
  5: 'V',
  6: 'F',
  7: 'J',
  8: 'A',
  9: 'S',
  10: 'E',
  11: 'j',
  12: '/',
  13: 'Q',
  14: '~',
  16: '|',
  18: 's',
  19: 'T',
  20: '*',
  21: 'D',
  22: '"',
  23: '=',
  24: 'p',
  25: 'B',
  26: '^',
  27: 't',
  28: '+',
  29: 'u',
  30: '?',
  31: '!',
  32: '[',
  33: ']',
  34: 'e',
  35: 'n',
  36: '@',
  37: 'x',
  38: 'f',
  39: '(',
  40: ')',
  41: 'r',
};

const CODE_BY_SYMBOL: ReadonlyMap<string, number> = new Map(
  Object.entries(ANNOTATION_SYMBOLS).map(([code, symbol]) => [symbol, Number(code)]),
);

/** Codes WFDB's `isqrs` counts as beats: what EC57 scores a QRS detector against. */
const QRS_CODES: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 38, 41]);

export const VF_ONSET_CODE = 32;
export const VF_END_CODE = 33;

export function isQrsCode(code: number): boolean {
  return QRS_CODES.has(code);
}

export function codeForSymbol(symbol: string): number {
  const code = CODE_BY_SYMBOL.get(symbol);
  if (code === undefined) throw new RangeError(`unknown annotation symbol "${symbol}"`);
  return code;
}

export interface Annotation {
  /** Sample index (at the record's sampling frequency). */
  readonly sample: number;
  readonly code: number;
  readonly symbol: string;
  readonly subtype: number;
  readonly channel: number;
  readonly num: number;
  /** AUX string: rhythm changes such as "(AFIB", or free text. */
  readonly aux: string;
}

// pseudo-codes of the MIT format (the top six bits of a 16-bit word)
const SKIP = 59;
const NUM = 60;
const SUB = 61;
const CHN = 62;
const AUX = 63;
const MAX_CODE = 49;
/** The comment annotation (`"`), which also carries WFDB's preamble notes. */
const NOTE = 22;

/**
 * Decodes an MIT-format annotation file. NUM and CHN carry over from one annotation to the
 * next, SUB and AUX belong to the annotation they precede, as WFDB's `getann` reads them.
 */
export function parseAnnotations(bytes: Uint8Array, file: string): Annotation[] {
  if (bytes.length % 2 !== 0) {
    throw new WfdbAnnotationError(file, bytes.length - 1, `odd length (${bytes.length} bytes): the file is truncated`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Annotation[] = [];
  let time = 0;
  let num = 0;
  let channel = 0;
  let pending: { sample: number; code: number; subtype: number; aux: string; at: number } | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    const { at, ...annotation } = pending;
    pending = undefined;
    // WFDB's preamble (a `## time resolution` note, a SKIP back and a code-0 word), which its own
    // reader hides, and code 0 (NOTQRS) are no annotations
    if (annotation.code === 0 || (annotation.code === NOTE && annotation.aux.startsWith('## '))) return;
    if (annotation.sample < 0)
      throw new WfdbAnnotationError(
        file,
        at,
        `annotation at sample ${annotation.sample}: positions are never negative`,
      );
    const previous = out.at(-1);
    if (previous !== undefined && annotation.sample < previous.sample)
      throw new WfdbAnnotationError(
        file,
        at,
        `annotation at sample ${annotation.sample} after one at ${previous.sample}: positions must not go back`,
      );
    out.push({ ...annotation, symbol: ANNOTATION_SYMBOLS[annotation.code] ?? `[${annotation.code}]`, channel, num });
  };

  let offset = 0;
  while (offset + 1 < bytes.length) {
    const word = view.getUint16(offset, true);
    const code = word >> 10;
    const value = word & 0x3ff;
    const at = offset;
    offset += 2;
    if (code === 0 && value === 0) {
      flush();
      return out;
    }
    switch (code) {
      case SKIP: {
        if (offset + 4 > bytes.length) throw new WfdbAnnotationError(file, at, 'SKIP word without its 4-byte interval');
        // PDP-11 long: high 16-bit word first, each word little-endian
        const high = view.getUint16(offset, true);
        const low = view.getUint16(offset + 2, true);
        const interval = ((high << 16) | low) >> 0;
        time += interval;
        offset += 4;
        break;
      }
      case NUM:
        flush();
        num = value > 511 ? value - 1024 : value;
        break;
      case SUB:
        if (pending === undefined) throw new WfdbAnnotationError(file, at, 'SUB word before any annotation');
        pending.subtype = value > 511 ? value - 1024 : value;
        break;
      case CHN:
        flush();
        channel = value;
        break;
      case AUX: {
        if (pending === undefined) throw new WfdbAnnotationError(file, at, 'AUX word before any annotation');
        if (offset + value > bytes.length) {
          throw new WfdbAnnotationError(file, at, `AUX string of ${value} bytes runs past the end of the file`);
        }
        pending.aux = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + value)).replace(/\0+$/, '');
        offset += value + (value % 2);
        break;
      }
      default: {
        if (code > MAX_CODE) throw new WfdbAnnotationError(file, at, `unknown annotation code ${code}`);
        flush();
        time += value;
        pending = { sample: time, code, subtype: 0, aux: '', at };
      }
    }
  }
  throw new WfdbAnnotationError(file, bytes.length, 'no end-of-file marker: the file is truncated');
}

/** What a writer needs of an annotation; the rest defaults to WFDB's zero values. */
export type AnnotationInput = Pick<Annotation, 'sample' | 'code'> &
  Partial<Pick<Annotation, 'subtype' | 'channel' | 'num' | 'aux'>>;

/**
 * Encodes annotations (sorted by sample) in MIT format, readable by PhysioNet's rdann and bxb.
 * NUM and CHN are written only when they change, ahead of the annotation they apply to.
 */
export function encodeAnnotations(annotations: readonly AnnotationInput[]): Uint8Array {
  const bytes: number[] = [];
  const pushWord = (w: number): void => {
    bytes.push(w & 0xff, (w >> 8) & 0xff);
  };
  let time = 0;
  let num = 0;
  let channel = 0;
  for (const a of annotations) {
    if (!Number.isInteger(a.sample) || a.sample < time) {
      throw new RangeError(`annotations must be sorted integer samples (got ${a.sample} after ${time})`);
    }
    if (a.code < 1 || a.code > MAX_CODE) throw new RangeError(`annotation code ${a.code} out of range 1..${MAX_CODE}`);
    const wantedNum = a.num ?? 0;
    const wantedChannel = a.channel ?? 0;
    if (wantedNum !== num) pushWord((NUM << 10) | (wantedNum & 0x3ff));
    if (wantedChannel !== channel) pushWord((CHN << 10) | (wantedChannel & 0x3ff));
    num = wantedNum;
    channel = wantedChannel;
    let delta = a.sample - time;
    if (delta > 0x3ff) {
      pushWord(SKIP << 10);
      pushWord((delta >>> 16) & 0xffff);
      pushWord(delta & 0xffff);
      delta = 0;
    }
    pushWord((a.code << 10) | delta);
    time = a.sample;
    const subtype = a.subtype ?? 0;
    if (subtype !== 0) pushWord((SUB << 10) | (subtype & 0x3ff));
    const aux = a.aux ?? '';
    if (aux.length > 0) {
      const encoded = Uint8Array.from(aux, (c) => c.charCodeAt(0) & 0xff);
      if (encoded.length > 0x3ff) throw new RangeError('AUX string longer than 1023 bytes');
      pushWord((AUX << 10) | encoded.length);
      for (const b of encoded) bytes.push(b);
      if (encoded.length % 2 === 1) bytes.push(0);
    }
  }
  pushWord(0);
  return Uint8Array.from(bytes);
}
