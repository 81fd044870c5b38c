import { describe, expect, it } from 'vitest';
import { aamiClass } from '../../stream/contracts/aami.js';
import { ALARM_PRIORITY, alarmId, bedOfAlarmId } from '../../stream/contracts/alarms.js';
import { monitoringLeadOf, pulseSignalOf, secondLeadOf, signalKindOf } from '../../stream/contracts/signals.js';

describe('shared vocabularies', () => {
  it('map MIT-BIH beat symbols to AAMI classes, and no inherited property name to anything', () => {
    expect(['N', 'L', 'R', 'e', 'j'].map(aamiClass)).toEqual(['N', 'N', 'N', 'N', 'N']);
    expect(['A', 'a', 'J', 'S', 'V', 'E', 'F', '/', 'f', 'Q'].map(aamiClass)).toEqual([
      'S',
      'S',
      'S',
      'S',
      'V',
      'V',
      'F',
      'Q',
      'Q',
      'Q',
    ]);
    for (const name of ['+', '~', 'constructor', 'toString', '__proto__']) expect(aamiClass(name)).toBeUndefined();
  });

  it('give every alarm type a priority, and read a bed back from an alarm id', () => {
    expect(new Set(Object.values(ALARM_PRIORITY))).toEqual(new Set(['high', 'medium', 'low', 'technical']));
    const id = alarmId('ward/3/bed-07', 'couplet', '1380');
    expect(id).toBe('ward/3/bed-07/couplet/1380');
    expect(bedOfAlarmId(id)).toBe('ward/3/bed-07');
    for (const bad of ['b/constructor/10', 'b/couplet/x', 'couplet/10', '/couplet/10', 'b/flat-line/10-x'])
      expect(bedOfAlarmId(bad)).toBeUndefined();
    // a lead alarm's id carries its lead
    expect(alarmId('b', 'flat-line', '12000', 1)).toBe('b/flat-line/12000-1');
    expect(bedOfAlarmId('b/flat-line/12000-1')).toBe('b');
  });

  it('choose the monitoring lead by name (MLII, else the first ECG lead) and a second ECG lead beside it', () => {
    const ecg = (...names: string[]) => names.map((name) => ({ name, kind: 'ecg' as const }));
    expect(monitoringLeadOf(ecg('V5', 'MLII'))).toBe(1);
    expect(secondLeadOf(ecg('V5', 'MLII'))).toBe(0);
    expect(monitoringLeadOf(ecg('II', 'V'))).toBe(0);
    expect(secondLeadOf(ecg('II'))).toBeUndefined();
    // an ICU record: the ECG leads among the pressure, pleth and respiration signals
    const icu = ['ABP', 'PLETH', 'II', 'RESP', 'V'].map((name, i) => ({
      name,
      kind: signalKindOf(name, ['mmHg', 'NU', 'mV', 'NU', 'mV'][i]!),
    }));
    expect(icu.map((s) => s.kind)).toEqual(['abp', 'pleth', 'ecg', 'resp', 'ecg']);
    expect(monitoringLeadOf(icu)).toBe(2);
    expect(secondLeadOf(icu)).toBe(4);
    expect(pulseSignalOf(icu)).toBe(0);
    expect(monitoringLeadOf(icu.filter((s) => s.kind !== 'ecg'))).toBe(-1);
    expect(signalKindOf('CO2', 'mmHg')).toBe('other');
  });
});
