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

/** The AAMI class of a MIT-BIH beat symbol; undefined for a symbol that is no beat class (own keys only). */
export function aamiClass(symbol: string): AamiClass | undefined {
  return Object.hasOwn(AAMI_BY_SYMBOL, symbol) ? AAMI_BY_SYMBOL[symbol] : undefined;
}
