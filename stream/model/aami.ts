import { AAMI_CLASSES, type AamiClass } from '../contracts/aami.js';

export function classIndex(c: AamiClass): number {
  return AAMI_CLASSES.indexOf(c);
}

/** The most probable class of row `k` of row-major class probabilities (the first of equals). */
export function argmax(probabilities: ArrayLike<number>, k: number): number {
  const K = AAMI_CLASSES.length;
  let best = 0;
  for (let c = 1; c < K; c++) if (probabilities[k * K + c]! > probabilities[k * K + best]!) best = c;
  return best;
}

/** de Chazal et al. (2004) inter-patient split; paced records 102 104 107 217 are in neither. */
export const DS1 = [
  '101',
  '106',
  '108',
  '109',
  '112',
  '114',
  '115',
  '116',
  '118',
  '119',
  '122',
  '124',
  '201',
  '203',
  '205',
  '207',
  '208',
  '209',
  '215',
  '220',
  '223',
  '230',
] as const;
export const DS2 = [
  '100',
  '103',
  '105',
  '111',
  '113',
  '117',
  '121',
  '123',
  '200',
  '202',
  '210',
  '212',
  '213',
  '214',
  '219',
  '221',
  '222',
  '228',
  '231',
  '232',
  '233',
  '234',
] as const;
