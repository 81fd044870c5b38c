import { describe, expect, it } from 'vitest';
import { ALARM_PRIORITY } from '../../stream/contracts/alarms.js';
import { ALARM_SIGNALS, PRIORITY_ORDER, THEME } from '../../ui/alarmPresentation.js';

/** WCAG 2.x contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string): number => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('alarm presentation (IEC 60601-1-8)', () => {
  it('flashes high priority at 1.4–2.8 Hz, medium at 0.4–0.8 Hz, low steady, each with a 20–60 % duty cycle', () => {
    expect(ALARM_SIGNALS.high.flashHz).toBeGreaterThanOrEqual(1.4);
    expect(ALARM_SIGNALS.high.flashHz).toBeLessThanOrEqual(2.8);
    expect(ALARM_SIGNALS.medium.flashHz).toBeGreaterThanOrEqual(0.4);
    expect(ALARM_SIGNALS.medium.flashHz).toBeLessThanOrEqual(0.8);
    expect(ALARM_SIGNALS.low.flashHz).toBe(0);
    for (const p of ['high', 'medium'] as const) {
      expect(ALARM_SIGNALS[p].dutyCycle).toBeGreaterThanOrEqual(0.2);
      expect(ALARM_SIGNALS[p].dutyCycle).toBeLessThanOrEqual(0.6);
    }
  });

  it('sounds a burst of 10 pulses for high priority and 3 for medium', () => {
    expect(ALARM_SIGNALS.high.pulses).toBe(10);
    expect(ALARM_SIGNALS.medium.pulses).toBe(3);
    expect(ALARM_SIGNALS.high.burstEveryS).toBeLessThan(ALARM_SIGNALS.medium.burstEveryS);
  });

  it('gives every priority a colour, a text marker and a label of its own, technical alarms apart', () => {
    const priorities = new Set(Object.values(ALARM_PRIORITY));
    expect(new Set(Object.keys(ALARM_SIGNALS))).toEqual(priorities);
    expect(new Set(PRIORITY_ORDER)).toEqual(priorities);
    for (const field of ['colour', 'marker', 'label'] as const)
      expect(new Set(Object.values(ALARM_SIGNALS).map((s) => s[field])).size).toBe(priorities.size);
    expect(ALARM_SIGNALS.high.marker).toBe('***');
    expect(ALARM_SIGNALS.medium.marker).toBe('**');
    expect(ALARM_SIGNALS.low.marker).toBe('*');
  });

  it('keeps every text readable (WCAG AA 4.5:1) in both phases of the flash, and the theme text on its background', () => {
    for (const [priority, s] of Object.entries(ALARM_SIGNALS)) {
      expect(contrast(s.text, s.colour), `${priority} text on its colour`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(s.onDark, THEME.background), `${priority} on the dark theme`).toBeGreaterThanOrEqual(4.5);
    }
    expect(contrast(THEME.text, THEME.background)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(THEME.muted, THEME.panel)).toBeGreaterThanOrEqual(4.5);
  });
});
