import { css, html, LitElement, nothing, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css';
import type { AlertView, BeatView } from '../../stream/contracts/display.js';
import { ALARM_SIGNALS, BEAT_COLOURS, THEME } from '../alarmPresentation.js';
import type { GatewayApi } from '../connection.js';
import { MISSING } from '../displayFrame.js';
import type { WardStore } from '../store.js';
import type { InspectedBeat } from './beatInspector.js';
import { alarmName, sharedStyles, StoreController } from './shared.js';

interface History {
  readonly hz: number;
  readonly firstSample: number;
  readonly leads: string[];
  readonly samples: string;
  readonly beats: BeatView[];
  readonly alerts: AlertView[];
}

/** Seconds of signal the strip shows at once; the slider scrolls through the last 10 minutes. */
const WINDOW_S = 10;
const REFRESH_MS = 2000;

/**
 * A bed's view: its last 10 minutes of ECG, scrollable, each beat's label drawn over it (a colour
 * per class, and the reference label beside it for a replay), the tachogram, and the bed's alarms
 * with their evidence beats; choosing one opens the beat inspector.
 *
 * @fires close - the nurse closed the view (Escape, or the button).
 * @fires acknowledge - `detail: alertId`.
 */
export class BedView extends LitElement {
  static override properties = {
    bedId: { type: String },
    canAcknowledge: { type: Boolean },
    history: { state: true },
    inspected: { state: true },
    error: { state: true },
  };
  declare bedId: string;
  declare canAcknowledge: boolean;
  declare history: History | undefined;
  declare inspected: InspectedBeat | undefined;
  declare error: string | undefined;
  store: WardStore | undefined;
  api: GatewayApi | undefined;
  private strip: uPlot | undefined;
  private tacho: uPlot | undefined;
  private refresh: number | undefined;
  /** The beats drawn over the strip. */
  private beats: BeatView[] = [];
  /** The strip's window chosen by the nurse (scrolled, or moved to an inspected beat); undefined: the latest 10 s. */
  private held: { min: number; max: number } | undefined;

  static override styles = [
    sharedStyles,
    unsafeCSS(uPlotCss),
    css`
      :host {
        position: fixed;
        inset: 0;
        background: rgba(0, 0, 0, 0.78);
        display: flex;
        align-items: stretch;
        justify-content: center;
        z-index: 10;
        padding: 16px;
      }
      .panel {
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: 8px;
        width: min(1400px, 100%);
        overflow-y: auto;
        padding: 12px 16px;
      }
      header {
        display: flex;
        gap: 16px;
        align-items: baseline;
      }
      h2 {
        margin: 0;
      }
      .spacer {
        flex: 1;
      }
      input[type='range'] {
        width: 100%;
      }
      .alarms {
        display: flex;
        flex-direction: column;
        gap: 6px;
        margin: 8px 0;
      }
      .alarm {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
        background: var(--panel);
        padding: 6px;
        border-radius: 4px;
      }
      .badge {
        font-weight: 800;
        padding: 1px 6px;
        border-radius: 3px;
      }
      .u-legend {
        color: var(--text);
      }
    `,
  ];

  constructor() {
    super();
    this.bedId = '';
    this.canAcknowledge = false;
    this.history = undefined;
    this.inspected = undefined;
    this.error = undefined;
    new StoreController(this, () => this.store, ['alerts']);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKey);
    void this.load();
    // the view follows the bed: its history again every 2 s
    this.refresh = window.setInterval(() => void this.load(), REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.refresh);
    this.strip?.destroy();
    this.tacho?.destroy();
  }

  private readonly onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') this.close();
  };

  private close(): void {
    this.dispatchEvent(new CustomEvent('close', { bubbles: true, composed: true }));
  }

  private async load(): Promise<void> {
    try {
      this.history = await this.api!.get<History>(`/api/beds/${encodeURIComponent(this.bedId)}/history?seconds=600`);
    } catch (error) {
      this.error = `cannot load ${this.bedId}: ${(error as Error).message}`;
    }
  }

  protected override firstUpdated(): void {
    // the keyboard goes to the view (Escape closes it)
    this.renderRoot.querySelector<HTMLElement>('.panel')?.focus({ preventScroll: true });
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('history') && this.history !== undefined) this.plot(this.history);
  }

  /** The strip (uPlot, 10 s at a time) and the tachogram from the history. */
  private plot(history: History): void {
    const bytes = Uint8Array.from(atob(history.samples), (c) => c.charCodeAt(0));
    const all = new Int16Array(bytes.buffer);
    const n = all.length / Math.max(1, history.leads.length);
    const t = Array.from({ length: n }, (_, k) => (history.firstSample + k) / history.hz);
    const leads = history.leads.map((_, l) =>
      // the second lead 3 mV below the first
      Array.from(all.subarray(l * n, l * n + n), (v) => (v === MISSING ? null : v / 1000 - (l === 0 ? 0 : 3))),
    );
    this.beats = history.beats;
    const host = this.renderRoot.querySelector<HTMLElement>('.strip')!;
    const end = t.at(-1) ?? 0;
    const shown = this.held ?? { min: end - WINDOW_S, max: end };
    const rr = this.beats.filter((b) => b.rrS !== null);
    const tachogram: uPlot.AlignedData = [
      rr.map((b) => b.displaySample / history.hz),
      rr.map((b) => Math.round(b.rrS! * 1000)),
    ];
    this.updateSlider(t[0] ?? 0, end);
    if (this.strip !== undefined && this.tacho !== undefined) {
      // a refresh: the same charts, new data, the nurse's window kept
      this.strip.setData([t, ...leads], false);
      this.strip.setScale('x', shown);
      this.tacho.setData(tachogram);
      return;
    }
    this.strip = new uPlot(
      {
        width: host.clientWidth || 1000,
        height: 320,
        scales: { x: { time: false, min: shown.min, max: shown.max }, y: { range: [-5, 2] } },
        axes: [
          { stroke: THEME.text, grid: { stroke: '#223' }, label: 's' },
          { stroke: THEME.text, grid: { stroke: '#223' }, label: 'mV' },
        ],
        series: [
          {},
          ...history.leads.map((name, l) => ({
            label: name,
            stroke: l === 0 ? THEME.trace : THEME.secondTrace,
            width: 1.2,
            points: { show: false },
          })),
        ],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        hooks: {
          draw: [
            (u: uPlot) => {
              // each beat's label over it, and the reference's beside it (replays)
              const ctx = u.ctx;
              const [min, max] = [u.scales.x!.min ?? 0, u.scales.x!.max ?? 0];
              ctx.save();
              ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui`;
              ctx.textAlign = 'center';
              for (const b of this.beats) {
                const s = b.displaySample / history.hz;
                if (s < min || s > max) continue;
                const x = u.valToPos(s, 'x', true);
                ctx.fillStyle = BEAT_COLOURS[b.label] ?? THEME.text;
                ctx.fillText(b.label, x, u.bbox.top + 14 * devicePixelRatio);
                if (b.reference !== undefined && b.reference !== b.label) {
                  ctx.fillStyle = '#ffd21f';
                  ctx.fillText(`ref ${b.reference}`, x, u.bbox.top + 28 * devicePixelRatio);
                }
              }
              ctx.restore();
            },
          ],
        },
      },
      [t, ...leads],
      host,
    );
    const tachoHost = this.renderRoot.querySelector<HTMLElement>('.tacho')!;
    this.tacho = new uPlot(
      {
        width: tachoHost.clientWidth || 1000,
        height: 160,
        scales: { x: { time: false } },
        axes: [
          { stroke: THEME.text, grid: { stroke: '#223' }, label: 's' },
          { stroke: THEME.text, grid: { stroke: '#223' }, label: 'RR ms' },
        ],
        series: [{}, { label: 'RR', stroke: '#ffd21f', width: 1, points: { show: true, size: 4 } }],
      },
      tachogram,
      tachoHost,
    );
  }

  /** The slider spans the history; it stays where the nurse put it, or at the latest. */
  private updateSlider(start: number, end: number): void {
    const slider = this.renderRoot.querySelector<HTMLInputElement>('input[type=range]');
    if (slider === null) return;
    slider.min = String(start);
    slider.max = String(Math.max(start, end - WINDOW_S));
    slider.value = String(this.held?.min ?? slider.max);
  }

  private onScroll(event: Event): void {
    const slider = event.target as HTMLInputElement;
    const from = Number(slider.value);
    // at the right end it follows the bed again
    this.held = from >= Number(slider.max) ? undefined : { min: from, max: from + WINDOW_S };
    this.strip?.setScale('x', { min: from, max: from + WINDOW_S });
  }

  /** Opens the inspector on an evidence beat of an alarm. */
  private async inspect(view: AlertView, index: number): Promise<void> {
    const evidence = view.alert.explanation[index]!;
    const rIndex = evidence.rIndex ?? 93;
    const known = [...(this.history?.beats ?? []), ...(this.store?.beats.get(this.bedId) ?? [])];
    let template: number[] | undefined;
    try {
      template = (
        await this.api!.get<{ template: number[] }>(
          `/api/beds/${encodeURIComponent(this.bedId)}/template?length=${evidence.window.length}&rIndex=${rIndex}`,
        )
      ).template;
    } catch {
      template = undefined; // no normal beat yet: said in the inspector
    }
    this.inspected = {
      bedId: this.bedId,
      rPeakSample: evidence.rPeakSample,
      label: evidence.label,
      window: evidence.window,
      rIndex,
      gradCam: evidence.gradCam,
      beat: known.find((b) => b.rPeakSample === evidence.rPeakSample),
      template,
    };
    const beat = this.inspected.beat;
    if (beat !== undefined && this.history !== undefined) {
      const s = beat.displaySample / this.history.hz;
      this.held = { min: s - WINDOW_S / 2, max: s + WINDOW_S / 2 };
      this.strip?.setScale('x', this.held);
    }
    await this.updateComplete;
    this.renderRoot.querySelector('ecg-beat-inspector')?.scrollIntoView({ block: 'nearest' });
  }

  override render() {
    const alarms = [...(this.store?.alerts.values() ?? [])]
      .filter((v) => v.alert.bedId === this.bedId)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, 30);
    const state = this.store?.beds.get(this.bedId);
    return html`<div class="panel" tabindex="-1" role="dialog" aria-label="bed ${this.bedId}">
      <header>
        <h2>${this.bedId}</h2>
        <span class="muted">${state?.source ?? ''} · HR ${state?.hr ?? '--'} · ${state?.rhythm ?? ''}</span>
        <span class="spacer"></span>
        <button @click=${() => this.close()}>Close (Esc)</button>
      </header>
      ${this.error === undefined ? nothing : html`<p role="alert">${this.error}</p>`}
      <div class="strip"></div>
      <label class="muted"
        >Scroll the last 10 minutes <input type="range" step="0.5" @input=${(e: Event) => this.onScroll(e)}
      /></label>
      <h3>Tachogram</h3>
      <div class="tacho"></div>
      <h3>Alarms of this bed</h3>
      <div class="alarms">
        ${alarms.length === 0 ? html`<span class="muted">none</span>` : nothing}
        ${alarms.map((v) => {
          const a = v.alert;
          const signal = ALARM_SIGNALS[a.priority];
          return html`<div class="alarm" data-alert=${a.id}>
            <span class="badge alarm-${a.priority}">${signal.marker} ${signal.label}</span>
            <b>${alarmName(a.type)}</b>
            <span class="muted"
              >${a.state}${a.acknowledged ? ', acknowledged' : ''}${v.acknowledgedBy ? ` by ${v.acknowledgedBy.by}` : ''}</span
            >
            ${a.explanation.map(
              (e, k) =>
                html`<button class="evidence" @click=${() => void this.inspect(v, k)}>
                  evidence beat ${k + 1}: ${e.label}
                </button>`,
            )}
            ${
              a.state === 'active' && !a.acknowledged && this.canAcknowledge
                ? html`<button
                    @click=${() => this.dispatchEvent(new CustomEvent('acknowledge', { detail: a.id, bubbles: true, composed: true }))}
                  >
                    Acknowledge
                  </button>`
                : nothing
            }
          </div>`;
        })}
      </div>
      <ecg-beat-inspector .inspected=${this.inspected}></ecg-beat-inspector>
    </div>`;
  }
}

customElements.define('ecg-bed-view', BedView);
