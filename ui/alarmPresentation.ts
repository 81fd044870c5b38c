import type { AlarmPriority } from '../stream/contracts/alarms.js';

/** How an alarm of a priority is shown and heard: IEC 60601-1-8's visual and auditory signals. */
export interface AlarmSignal {
  /** The text marker, so colour is never the only cue. */
  readonly marker: string;
  readonly label: string;
  /** Background of the alarm's badge and the tile's border. */
  readonly colour: string;
  /** Text on that background (WCAG AA: at least 4.5:1). */
  readonly text: string;
  /** The priority's colour as text on the dark theme (the flash's off phase; WCAG AA there too). */
  readonly onDark: string;
  /** Flash frequency, Hz (0: steady). IEC 60601-1-8: high 1.4–2.8 Hz, medium 0.4–0.8 Hz, low steady. */
  readonly flashHz: number;
  /** Share of each flash period the signal is on (IEC: 20–60 %). */
  readonly dutyCycle: number;
  /** Pulses of a burst (IEC: high 10, medium 3, low 1 or 2), and the pause between bursts, s. */
  readonly pulses: number;
  readonly burstEveryS: number;
  /** Pulse pitch, Hz: high priority higher. */
  readonly pitchHz: number;
}

export const ALARM_SIGNALS: Readonly<Record<AlarmPriority, AlarmSignal>> = {
  high: {
    onDark: '#ff7a7a',
    marker: '***',
    label: 'HIGH',
    colour: '#d7191c',
    text: '#ffffff',
    flashHz: 2,
    dutyCycle: 0.5,
    pulses: 10,
    burstEveryS: 5,
    pitchHz: 880,
  },
  medium: {
    onDark: '#ffd21f',
    marker: '**',
    label: 'MEDIUM',
    colour: '#ffd21f',
    text: '#111111',
    flashHz: 0.6,
    dutyCycle: 0.5,
    pulses: 3,
    burstEveryS: 15,
    pitchHz: 660,
  },
  low: {
    onDark: '#2ad4e6',
    marker: '*',
    label: 'LOW',
    colour: '#2ad4e6',
    text: '#111111',
    flashHz: 0,
    dutyCycle: 1,
    pulses: 1,
    burstEveryS: 30,
    pitchHz: 523,
  },
  technical: {
    onDark: '#c4b5fd',
    marker: '!',
    label: 'TECHNICAL',
    colour: '#a78bfa',
    text: '#111111',
    flashHz: 0,
    dutyCycle: 1,
    pulses: 1,
    burstEveryS: 30,
    pitchHz: 440,
  },
};

/** Priorities from the most urgent down: the banner and the alarm list sort by it. */
export const PRIORITY_ORDER: readonly AlarmPriority[] = ['high', 'medium', 'technical', 'low'];

/** Colour of each beat class on the bed view's strip. */
export const BEAT_COLOURS: Readonly<Record<string, string>> = {
  N: '#9ca3af',
  S: '#60a5fa',
  V: '#f87171',
  F: '#fbbf24',
  Q: '#c084fc',
};

/** CSS custom properties of the theme, read by every component. */
export const THEME = {
  background: '#0b0f14',
  panel: '#141a22',
  border: '#2a3340',
  text: '#e6edf3',
  muted: '#9fb0c0',
  trace: '#3ddc84',
  secondTrace: '#7cc4ff',
} as const;
