import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AlarmPriority } from '../stream/contracts/alarms.js';
import { ALARM_SIGNALS, PRIORITY_ORDER } from './alarmPresentation.js';
import type { WardStore } from './store.js';

/** An audio pause lasts this long (IEC 60601-1-8 allows up to 2 minutes); the visual signal goes on. */
export const AUDIO_PAUSE_S = 120;
const PULSE_S = 0.15;
const GAP_S = 0.1;

/**
 * The central station's alarm sound (Web Audio), as a ReactiveController: each second it finds the
 * most urgent active alarm not yet acknowledged and plays its priority's burst when due (high: 10
 * pulses, medium: 3). A browser lets a page sound only after a gesture: `enable` is called from a
 * click. `pause` silences it for AUDIO_PAUSE_S with a countdown; alarms keep flashing.
 */
export class AlarmSound implements ReactiveController {
  private context: AudioContext | undefined;
  private timer: number | undefined;
  private lastBurst: { priority: AlarmPriority; at: number } | undefined;
  /** Wall clock ms until which sound is paused (0: not paused). */
  pausedUntil = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: WardStore,
  ) {
    host.addController(this);
  }

  get enabled(): boolean {
    return this.context !== undefined;
  }

  /** Seconds of pause left (0 when sounding). */
  get pauseLeftS(): number {
    return Math.max(0, Math.ceil((this.pausedUntil - Date.now()) / 1000));
  }

  enable(): void {
    this.context ??= new AudioContext();
    void this.context.resume();
    this.host.requestUpdate();
  }

  pause(): void {
    this.pausedUntil = this.pauseLeftS > 0 ? 0 : Date.now() + AUDIO_PAUSE_S * 1000;
    this.host.requestUpdate();
  }

  hostConnected(): void {
    this.timer = window.setInterval(() => this.tick(), 1000);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
    void this.context?.close();
    this.context = undefined;
  }

  /** The priority that sounds now: the most urgent active alarm nobody has acknowledged. */
  sounding(): AlarmPriority | undefined {
    const active = [...this.store.alerts.values()].filter((v) => v.alert.state === 'active' && !v.alert.acknowledged);
    return PRIORITY_ORDER.find((p) => active.some((v) => v.alert.priority === p));
  }

  private tick(): void {
    if (this.pausedUntil > 0) this.host.requestUpdate(); // the countdown
    if (this.pausedUntil > 0 && this.pauseLeftS === 0) this.pausedUntil = 0;
    const priority = this.sounding();
    const ctx = this.context;
    if (priority === undefined || ctx === undefined || this.pauseLeftS > 0) return;
    const signal = ALARM_SIGNALS[priority];
    const now = ctx.currentTime;
    if (this.lastBurst?.priority === priority && now - this.lastBurst.at < signal.burstEveryS) return;
    this.lastBurst = { priority, at: now };
    for (let k = 0; k < signal.pulses; k++) {
      // high priority's burst in the standard's rhythm: 3 + 2 pulses, a pause, 3 + 2 again
      const extra = priority === 'high' ? (k >= 3 ? 0.2 : 0) + (k >= 5 ? 0.6 : 0) + (k >= 8 ? 0.2 : 0) : 0;
      const at = now + k * (PULSE_S + GAP_S) + extra;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = signal.pitchHz;
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.2, at + 0.02);
      gain.gain.setValueAtTime(0.2, at + PULSE_S - 0.02);
      gain.gain.linearRampToValueAtTime(0, at + PULSE_S);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + PULSE_S);
    }
  }
}
