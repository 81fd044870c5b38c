/**
 * Alarm types and their priority (IEC 60601-1-8: high, medium, low; technical alarms apart),
 * the vocabulary of `ecg.alerts`.
 */
export const ALARM_PRIORITY = {
  asystole: 'high',
  'extreme-bradycardia': 'high',
  'extreme-tachycardia': 'high',
  'ventricular-tachycardia': 'high',
  'ventricular-fibrillation': 'high',
  couplet: 'medium',
  'ventricular-run': 'medium',
  bigeminy: 'low',
  trigeminy: 'low',
  pause: 'medium',
  'irregular-rhythm': 'medium',
  /** One lead's electrode is off: the device marks its samples invalid. Per lead. */
  'lead-off': 'technical',
  /** One lead is flat (an electrode off that the device does not mark, or the amplifier stuck). Per lead. */
  'flat-line': 'technical',
  /** One lead is pinned at the amplifier's rail. Per lead. */
  saturation: 'technical',
  'poor-signal': 'technical',
  /** Frames of the bed's stream went missing: the detector resynchronised after the gap. */
  'signal-gap': 'technical',
  /** No frame of the bed arrived for a while (wall clock): the monitor cannot see the patient. */
  'stream-stalled': 'technical',
  /**
   * The bed's frames cannot be used (a sample rate, gain or numbering no device gives) or its
   * processing failed: the bed is quarantined, its frames set aside, and the alarm says why.
   */
  'invalid-input': 'technical',
} as const;

export type AlarmType = keyof typeof ALARM_PRIORITY;
export type AlarmPriority = (typeof ALARM_PRIORITY)[AlarmType];
export type AlarmStateName = 'active' | 'ended';

/**
 * An alarm's id: bed, type and onset key (the first evidence beat's sample, or the onset in
 * ms), and for an alarm about one lead that lead's index in the bed's frames, so that a replayed
 * or redelivered frame raises the same alarm again, never another: `bed-01/asystole/301250`,
 * `bed-01/flat-line/12000-1`.
 */
export function alarmId(bedId: string, type: AlarmType, onsetKey: string, leadIndex?: number): string {
  return `${bedId}/${type}/${onsetKey}${leadIndex === undefined ? '' : `-${leadIndex}`}`;
}

/** The bed an alarm id belongs to, or undefined if it is not an alarm id. */
export function bedOfAlarmId(id: string): string | undefined {
  const parts = id.split('/');
  if (parts.length < 3 || !Object.hasOwn(ALARM_PRIORITY, parts.at(-2)!) || !/^\d+(-\d+)?$/.test(parts.at(-1)!))
    return undefined;
  const bedId = parts.slice(0, -2).join('/');
  return bedId === '' ? undefined : bedId;
}
