import { describe, expect, it } from 'vitest';
import { aamiClass } from '../../stream/contracts/aami.js';
import { ALARM_PRIORITY, alarmId, bedOfAlarmId } from '../../stream/contracts/alarms.js';
import { monitoringLeadOf, secondLeadOf } from '../../stream/contracts/signals.js';

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
    for (const bad of ['b/constructor/10', 'b/couplet/x', 'couplet/10', '/couplet/10'])
      expect(bedOfAlarmId(bad)).toBeUndefined();
  });

  it('choose the monitoring lead by name (MLII, else the first) and a second lead beside it', () => {
    expect(monitoringLeadOf(['V5', 'MLII'])).toBe(1);
    expect(secondLeadOf(['V5', 'MLII'])).toBe(0);
    expect(monitoringLeadOf(['II', 'V'])).toBe(0);
    expect(secondLeadOf(['II'])).toBeUndefined();
  });
});
