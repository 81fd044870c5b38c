/** AAMI EC57 beat classes, in the order of the classifier's outputs. */
export const AAMI_CLASSES = ['N', 'S', 'V', 'F', 'Q'] as const;
export type AamiClass = (typeof AAMI_CLASSES)[number];

/** MIT-BIH beat symbols to AAMI classes (DESIGN.md): N = N L R e j; S = A a J S; V = V E; F = F; Q = / f Q. */
const AAMI_BY_SYMBOL: Readonly<Record<string, AamiClass>> = {
  N: 'N',
  L: 'N',
  R: 'N',
  e: 'N',
  j: 'N',
  A: 'S',
  a: 'S',
  J: 'S',
  S: 'S',
  V: 'V',
  E: 'V',
  F: 'F',
  '/': 'Q',
  f: 'Q',
  Q: 'Q',
};

export function aamiClass(symbol: string): AamiClass | undefined {
  return AAMI_BY_SYMBOL[symbol];
}

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
