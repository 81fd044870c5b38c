import { css, html, LitElement, nothing } from 'lit';
import type { AlarmSummary } from '../../stream/contracts/display.js';
import { ALARM_SIGNALS, PRIORITY_ORDER } from '../alarmPresentation.js';
import type { WardStore } from '../store.js';
import { NOT_LIVE_MS, SweepStrip, sweeps } from '../sweep.js';
import { alarmName, clock, sharedStyles, StoreController, TickController } from './shared.js';

/**
 * One bed of the central station: its sweeping strip, large HR, rhythm, last beat, signal
 * quality and alarm state. A bed whose data stopped says so over a dimmed strip.
 *
 * @fires open-bed - `detail: bedId` on Enter or a click: the bed view.
 * @csspart strip - the canvas of the sweeping strip.
 */
export class BedTile extends LitElement {
  static override properties = { bedId: { type: String }, selected: { type: Boolean, reflect: true } };
  declare bedId: string;
  declare selected: boolean;
  store: WardStore | undefined;
  private strip: SweepStrip | undefined;
  private resize: ResizeObserver | undefined;

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        background: var(--panel);
        border: 3px solid var(--border);
        border-radius: 6px;
        min-width: 0;
        min-height: 0;
        overflow: hidden;
        cursor: pointer;
      }
      :host([selected]) {
        outline: 3px solid #ffffff;
      }
      header {
        display: flex;
        align-items: baseline;
        gap: 8px;
        padding: 4px 8px 0;
        white-space: nowrap;
        overflow: hidden;
      }
      .bed {
        font-weight: 700;
        font-size: 1.05rem;
      }
      .source {
        font-size: 0.8rem;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .body {
        display: grid;
        grid-template-columns: 1fr auto;
        flex: 1;
        min-height: 0;
      }
      .strip {
        position: relative;
        min-height: 0;
      }
      canvas {
        /* out of the flow: its pixel size follows the strip, never the other way round */
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        display: block;
      }
      .leads {
        position: absolute;
        left: 4px;
        top: 2px;
        font-size: 0.7rem;
      }
      .notlive {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        background: rgba(11, 15, 20, 0.72);
        font-weight: 700;
        font-size: 1rem;
        color: #ffd21f;
        text-align: center;
      }
      .vitals {
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        padding: 0 8px 4px;
        min-width: 6.5em;
      }
      .hr {
        font-size: clamp(1.8rem, 4.2vw, 3.4rem);
        font-weight: 800;
        line-height: 1;
        color: var(--trace);
        font-variant-numeric: tabular-nums;
      }
      .hr small {
        font-size: 0.8rem;
        color: var(--muted);
        font-weight: 400;
      }
      .line {
        font-size: 0.8rem;
      }
      .alarm {
        min-height: 1.2em;
        margin: 0 6px 6px;
        padding: 2px 6px;
        border-radius: 4px;
        font-weight: 700;
        font-size: 0.85rem;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .none {
        color: var(--muted);
        font-weight: 400;
      }
    `,
  ];

  constructor() {
    super();
    this.bedId = '';
    this.selected = false;
    new StoreController(
      this,
      () => this.store,
      ['beds', 'alerts'],
      () => this.bedId,
    );
    // "not live" is judged on this screen's clock too: a silent gateway sends no state
    new TickController(this, 1000);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.tabIndex = 0;
    this.addEventListener('click', this.open);
    this.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    if (this.strip !== undefined) sweeps.delete(this.strip);
    this.strip = undefined;
  }

  override firstUpdated(): void {
    const canvas = this.renderRoot.querySelector('canvas')!;
    this.strip = new SweepStrip(canvas, this.bedId, this.store!);
    this.resize = new ResizeObserver(() => {
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
      this.strip?.reset();
    });
    this.resize.observe(canvas);
    sweeps.add(this.strip);
  }

  private readonly open = (): void => {
    this.dispatchEvent(new CustomEvent('open-bed', { detail: this.bedId, bubbles: true, composed: true }));
  };

  private readonly onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Enter') this.open();
  };

  /** The bed's most urgent alarm: unacknowledged first, then by priority. */
  private worst(alarms: readonly AlarmSummary[]): AlarmSummary | undefined {
    return [...alarms].sort(
      (a, b) =>
        Number(a.acknowledged) - Number(b.acknowledged) ||
        PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority),
    )[0];
  }

  override render() {
    const state = this.store?.beds.get(this.bedId);
    const wave = this.store?.waves.get(this.bedId);
    const silentS = wave === undefined ? undefined : (performance.now() - wave.receivedAt) / 1000;
    const live = wave !== undefined && silentS !== undefined && silentS * 1000 < NOT_LIVE_MS && state?.stale !== true;
    const worst = this.worst(state?.activeAlarms ?? []);
    const signal = worst === undefined ? undefined : ALARM_SIGNALS[worst.priority];
    this.className = worst === undefined ? '' : `border-${worst.priority}`;
    const speed =
      state?.speed !== null && state?.speed !== undefined && Math.abs(state.speed - 1) > 0.15
        ? ` · ×${state.speed}`
        : '';
    return html`
      <header>
        <span class="bed">${this.bedId}</span>
        <span class="source muted">${state?.source ?? ''}${speed}</span>
      </header>
      <div class="body">
        <div class="strip">
          <canvas part="strip" aria-label="ECG of ${this.bedId}"></canvas>
          <span class="leads muted">${(state?.leads ?? []).join(' / ')}</span>
          ${
            live
              ? nothing
              : html`<div class="notlive" role="status">
                  NO DATA${silentS === undefined ? '' : html`<br />for ${clock(silentS)}`}
                </div>`
          }
        </div>
        <div class="vitals">
          <span class="hr" aria-label="heart rate">${state?.hr ?? '--'}<small> bpm</small></span>
          <span class="line">${state?.rhythm ?? '—'}</span>
          <span class="line muted"
            >beat ${state?.lastBeat ?? '—'} · SQ
            ${state?.quality === null || state?.quality === undefined ? '—' : `${Math.round(state.quality * 100)}%`}</span
          >
        </div>
      </div>
      ${
        worst === undefined
          ? html`<div class="alarm none" aria-label="no active alarm"></div>`
          : html`<div
              class="alarm alarm-${worst.priority} ${worst.acknowledged ? '' : `flash-${worst.priority}`}"
              role="alert"
            >
              ${signal!.marker} ${alarmName(worst.type)}${worst.acknowledged ? ' (ack)' : ''}
              ${(state?.activeAlarms.length ?? 0) > 1 ? html`<span> +${state!.activeAlarms.length - 1}</span>` : nothing}
            </div>`
      }
    `;
  }
}

customElements.define('ecg-bed-tile', BedTile);
