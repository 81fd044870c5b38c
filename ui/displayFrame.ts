/** A sample the gateway does not have (a gap): never drawn. */
export const MISSING = -32768;

/** One bed's chunk of a display frame (`stream/contracts/display.ts` gives the layout). */
export interface DisplayChunk {
  readonly bedId: string;
  readonly seq: number;
  readonly firstSample: number;
  readonly leads: readonly string[];
  /** Per lead, its samples in µV (int16). */
  readonly samples: readonly Int16Array[];
}

export interface DisplayFrame {
  /** The bed's last 10 s, sent on (re)subscribing. */
  readonly snapshot: boolean;
  readonly chunks: readonly DisplayChunk[];
}

const fromUtf8 = new TextDecoder();

/** Decodes a binary display frame (version 1); throws on anything else. */
export function decodeDisplayFrame(buffer: ArrayBuffer): DisplayFrame {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'ECGD')
    throw new Error('not a display frame');
  if (view.getUint8(4) !== 1) throw new Error(`display frame version ${view.getUint8(4)}; this page reads 1`);
  const snapshot = (view.getUint8(5) & 1) === 1;
  const count = view.getUint16(6, true);
  let o = 8;
  const text = (): string => {
    const n = bytes[o]!;
    const s = fromUtf8.decode(bytes.subarray(o + 1, o + 1 + n));
    o += 1 + n;
    return s;
  };
  const chunks: DisplayChunk[] = [];
  for (let b = 0; b < count; b++) {
    const bedId = text();
    const seq = view.getUint32(o, true);
    const firstSample = view.getFloat64(o + 4, true);
    const leadCount = view.getUint8(o + 12);
    const perLead = view.getUint16(o + 13, true);
    o += 15;
    const leads = Array.from({ length: leadCount }, text);
    const samples = leads.map(() => {
      const lead = new Int16Array(perLead);
      for (let k = 0; k < perLead; k++, o += 2) lead[k] = view.getInt16(o, true);
      return lead;
    });
    if (o > bytes.length) throw new Error('display frame truncated');
    chunks.push({ bedId, seq, firstSample, leads, samples });
  }
  return { snapshot, chunks };
}
