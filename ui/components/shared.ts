import { css, unsafeCSS, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { AlarmPriority } from '../../stream/contracts/alarms.js';
import { ALARM_SIGNALS, THEME } from '../alarmPresentation.js';
import type { WardStore } from '../store.js';

type StoreEvent = 'beds' | 'alerts' | 'beats' | 'connection';

/**
 * Re-renders its host when the store says something it listens to changed (a ReactiveController:
 * listening from hostConnected to hostDisconnected). `bedId`, where given, filters `beds` events.
 */
export class StoreController implements ReactiveController {
  private readonly listener = (event: Event): void => {
    const bed = (event as CustomEvent<string | undefined>).detail;
    if (event.type === 'beds' && this.bedId !== undefined && bed !== undefined && bed !== this.bedId()) return;
    this.host.requestUpdate();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: () => WardStore | undefined,
    private readonly events: readonly StoreEvent[],
    private readonly bedId?: () => string | undefined,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    for (const e of this.events) this.store()?.addEventListener(e, this.listener);
  }

  hostDisconnected(): void {
    for (const e of this.events) this.store()?.removeEventListener(e, this.listener);
  }
}

/** Re-renders its host every `ms` while connected: ages and countdowns on screen move on. */
export class TickController implements ReactiveController {
  private timer: number | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly ms: number,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.timer = window.setInterval(() => this.host.requestUpdate(), this.ms);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
  }
}

/** Keyframes of each priority's flash, from the presentation table (its frequency and duty cycle). */
function flashRules(): string {
  return (Object.entries(ALARM_SIGNALS) as [AlarmPriority, (typeof ALARM_SIGNALS)[AlarmPriority]][])
    .map(([priority, s]) => {
      const on = Math.round(s.dutyCycle * 100);
      const animation =
        s.flashHz > 0 ? `animation: flash-${priority} ${(1 / s.flashHz).toFixed(3)}s step-end infinite;` : '';
      // the flash swaps fill and text colour: the words stay readable in both phases
      return `@keyframes flash-${priority} {
          0% { background-color: ${s.colour}; color: ${s.text}; }
          ${on}% { background-color: transparent; color: ${s.onDark}; }
        }
        .alarm-${priority} { background-color: ${s.colour}; color: ${s.text}; box-shadow: inset 0 0 0 2px ${s.colour}; }
        .flash-${priority} { ${animation} }
        :host(.border-${priority}) { border-color: ${s.colour} !important; }`;
    })
    .join('\n');
}

/** Every component's theme and alarm classes: the one place colours and flashing are set. */
export const sharedStyles = css`
  :host {
    --bg: ${unsafeCSS(THEME.background)};
    --panel: ${unsafeCSS(THEME.panel)};
    --border: ${unsafeCSS(THEME.border)};
    --text: ${unsafeCSS(THEME.text)};
    --muted: ${unsafeCSS(THEME.muted)};
    --trace: ${unsafeCSS(THEME.trace)};
    color: var(--text);
    font-family: system-ui, 'Segoe UI', Roboto, sans-serif;
  }
  ${unsafeCSS(flashRules())}
  @media (prefers-reduced-motion: reduce) {
    [class*='flash-'] {
      animation-duration: 1s !important;
    }
  }
  button {
    font: inherit;
    color: var(--text);
    background: #223044;
    border: 1px solid #3b4a5e;
    border-radius: 4px;
    padding: 4px 10px;
    cursor: pointer;
  }
  button:focus-visible,
  [tabindex]:focus-visible {
    outline: 3px solid #ffffff;
    outline-offset: 2px;
  }
  .muted {
    color: var(--muted);
  }
`;

/** An alarm type as a nurse reads it. */
export function alarmName(type: string): string {
  return type.replace(/-/g, ' ').toUpperCase();
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
