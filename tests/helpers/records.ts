import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mitdbDir } from '../../stream/wfdb/index.js';

/** How a test damages a copied record: each given function rewrites that file. */
export interface RecordDamage {
  readonly hea?: (text: string) => string;
  readonly dat?: (bytes: Buffer) => Buffer;
  readonly atr?: (bytes: Buffer) => Buffer;
}

/** Copies MIT-BIH record 100 into `dir` as `name`, damaging the files `damage` names (none: a sound copy). */
export async function copyRecord(dir: string, name: string, damage: RecordDamage = {}): Promise<void> {
  const src = mitdbDir();
  const hea = (await readFile(join(src, '100.hea'), 'latin1')).replaceAll('100', name);
  await writeFile(join(dir, `${name}.hea`), damage.hea ? damage.hea(hea) : hea, 'latin1');
  const dat = await readFile(join(src, '100.dat'));
  await writeFile(join(dir, `${name}.dat`), damage.dat ? damage.dat(dat) : dat);
  const atr = await readFile(join(src, '100.atr'));
  await writeFile(join(dir, `${name}.atr`), damage.atr ? damage.atr(atr) : atr);
}

/** A signal file cut 3 000 bytes short of what its header announces. */
export const truncated = (bytes: Buffer): Buffer => bytes.subarray(0, bytes.length - 3000);
