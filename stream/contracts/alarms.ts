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
  'lead-off': 'technical',
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
 * ms), so that a replayed or redelivered frame raises the same alarm again, never another.
 */
export function alarmId(bedId: string, type: AlarmType, onsetKey: string): string {
  return `${bedId}/${type}/${onsetKey}`;
}

/** The bed an alarm id belongs to, or undefined if it is not an alarm id. */
export function bedOfAlarmId(id: string): string | undefined {
  const parts = id.split('/');
  if (parts.length < 3 || !Object.hasOwn(ALARM_PRIORITY, parts.at(-2)!) || !/^\d+$/.test(parts.at(-1)!))
    return undefined;
  const bedId = parts.slice(0, -2).join('/');
  return bedId === '' ? undefined : bedId;
}
