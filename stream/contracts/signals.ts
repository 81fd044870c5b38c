/**
 * What a recorded signal is. A bedside monitor records ECG leads beside pulsatile signals
 * (photoplethysmogram, arterial blood pressure) and respiration; only ECG leads are analysed for
 * beats, and a pulsatile one can confirm the heart is beating.
 */
export const SIGNAL_KINDS = ['ecg', 'pleth', 'abp', 'resp', 'other'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** A signal as the lead choice reads it. */
export interface NamedSignal {
  readonly name: string;
  readonly kind: SignalKind;
}

/** Pulsatile signals by the names PhysioNet's databases give them. */
const PULSATILE: Readonly<Record<string, SignalKind>> = {
  PLETH: 'pleth',
  PPG: 'pleth',
  SPO2: 'pleth',
  ABP: 'abp',
  ART: 'abp',
  AOBP: 'abp',
  RESP: 'resp',
  RESPIRATION: 'resp',
};

/** Units in which an ECG lead is recorded. */
const ECG_UNITS = new Set(['mv', 'uv', 'µv', 'v', '']);

/**
 * A signal's kind from its name and units, as PhysioNet writes them: PLETH, ABP and RESP by name
 * (whatever their units: NU, mmHg, Ω); otherwise a voltage is an ECG lead, anything else `other`.
 */
export function signalKindOf(name: string, units: string): SignalKind {
  const key = name.trim().toUpperCase();
  if (Object.hasOwn(PULSATILE, key)) return PULSATILE[key]!;
  return ECG_UNITS.has(units.trim().toLowerCase()) ? 'ecg' : 'other';
}

/**
 * The monitoring lead (DESIGN.md): MLII where it is named (MIT-BIH record 114 stores it second),
 * otherwise the first ECG signal; -1 when the signals hold no ECG lead. Records and live frames
 * both use it.
 */
export function monitoringLeadOf(signals: readonly NamedSignal[]): number {
  const mlii = signals.findIndex((s) => s.kind === 'ecg' && s.name.trim().toUpperCase() === 'MLII');
  return mlii !== -1 ? mlii : signals.findIndex((s) => s.kind === 'ecg');
}

/** The first ECG lead other than the monitoring one, if there are two or more. */
export function secondLeadOf(signals: readonly NamedSignal[]): number | undefined {
  const monitoring = monitoringLeadOf(signals);
  const index = signals.findIndex((s, i) => i !== monitoring && s.kind === 'ecg');
  return index === -1 ? undefined : index;
}

/** The pulsatile signal that can witness the heart beating: arterial pressure, else the pleth. */
export function pulseSignalOf(signals: readonly NamedSignal[]): number | undefined {
  for (const kind of ['abp', 'pleth'] as const) {
    const index = signals.findIndex((s) => s.kind === kind);
    if (index !== -1) return index;
  }
  return undefined;
}
