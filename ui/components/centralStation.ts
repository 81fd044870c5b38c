import { css, html, LitElement, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { AlertView } from '../../stream/contracts/display.js';
import { ALARM_SIGNALS, PRIORITY_ORDER } from '../alarmPresentation.js';
import { AlarmSound } from '../audio.js';
import { GatewayApi, GatewayConnection } from '../connection.js';
import { WardStore } from '../store.js';
import { alarmName, clock, sharedStyles, StoreController, TickController } from './shared.js';
import './alarmList.js';
import './beatInspector.js';
import './bedTile.js';
import './bedView.js';

/**
 * The central station: a grid of bed tiles laid out to the screen, the most urgent alarm pinned in
 * a banner, the alarm list, and a bed's view on demand. Always shows the connection's state (to the
 * gateway, and the gateway's to Kafka). Keyboard: arrows move between beds, Enter opens one, A
 * acknowledges the most urgent alarm of the bed in focus (or of the banner), P pauses the sound,
 * Escape closes the bed view.
 */
export class CentralStation extends LitElement {
  static override properties = {
    token: { type: String },
    openBed: { state: true },
    selected: { state: true },
    notice: { state: true },
  };
  declare token: string;
  declare openBed: string | undefined;
  declare selected: number;
  declare notice: string | undefined;
  readonly store = new WardStore();
  private readonly api: GatewayApi;
  private readonly sound: AlarmSound;

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        grid-template-rows: auto auto 1fr;
        height: 100vh;
        background: var(--bg);
      }
      header {
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 6px 12px;
        border-bottom: 1px solid var(--border);
        flex-wrap: wrap;
      }
      h1 {
        font-size: 1.1rem;
        margin: 0;
      }
      .conn {
        font-weight: 700;
        padding: 2px 8px;
        border-radius: 4px;
      }
      .ok {
        background: #1f7a3f;
        color: #fff;
      }
      .warn {
        background: #ffd21f;
        color: #111;
      }
      .bad {
        background: #d7191c;
        color: #fff;
      }
      .spacer {
        flex: 1;
      }
      .banner {
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 6px 12px;
        font-size: 1.25rem;
        font-weight: 800;
      }
      .banner.calm {
        font-size: 0.95rem;
        font-weight: 400;
        color: var(--muted);
      }
      main {
        display: grid;
        grid-template-columns: 1fr minmax(260px, 22vw);
        min-height: 0;
      }
      .grid {
        display: grid;
        gap: 6px;
        padding: 6px;
        min-height: 0;
      }
      .notice {
        padding: 4px 12px;
      }
    `,
  ];

  constructor() {
    super();
    this.token = '';
    this.openBed = undefined;
    this.selected = 0;
    this.notice = undefined;
    const token = new URLSearchParams(location.search).get('token') ?? sessionStorage.getItem('ecg-token') ?? '';
    if (token !== '') {
      // kept for this tab, and out of the address bar (and its history)
      sessionStorage.setItem('ecg-token', token);
      history.replaceState(null, '', location.pathname);
    }
    this.token = token;
    this.api = new GatewayApi(token);
    new GatewayConnection(this, this.store, token);
    new StoreController(this, () => this.store, ['beds', 'alerts', 'connection']);
    new TickController(this, 1000);
    this.sound = new AlarmSound(this, this.store);
    this.addEventListener('open-bed', (e) => (this.openBed = (e as CustomEvent<string>).detail));
    this.addEventListener('close', () => (this.openBed = undefined));
    this.addEventListener('acknowledge', (e) => void this.acknowledge((e as CustomEvent<string>).detail));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.onKey);
  }

  private get canAcknowledge(): boolean {
    const role = this.store.user?.role;
    return role === 'nurse' || role === 'admin';
  }

  private async acknowledge(alertId: string): Promise<void> {
    try {
      await this.api.post(`/api/alerts/${encodeURIComponent(alertId)}/ack`);
      this.notice = `acknowledgement of ${alertId} sent`;
    } catch (error) {
      this.notice = `not acknowledged: ${(error as Error).message}`;
    }
  }

  /** The alarm the banner pins: the most urgent active one not yet acknowledged, the oldest first. */
  private mostUrgent(): AlertView | undefined {
    const active = [...this.store.alerts.values()].filter((v) => v.alert.state === 'active' && !v.alert.acknowledged);
    return active.sort(
      (a, b) => PRIORITY_ORDER.indexOf(a.alert.priority) - PRIORITY_ORDER.indexOf(b.alert.priority) || a.seq - b.seq,
    )[0];
  }

  private readonly onKey = (event: KeyboardEvent): void => {
    if (this.openBed !== undefined) return; // the bed view has the keyboard
    const beds = [...this.store.beds.keys()].sort();
    const columns = this.columns(beds.length);
    const move: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    if (event.key in move && beds.length > 0) {
      this.selected = Math.max(0, Math.min(beds.length - 1, this.selected + move[event.key]!));
      this.renderRoot.querySelectorAll<HTMLElement>('ecg-bed-tile')[this.selected]?.focus();
      event.preventDefault();
    } else if (event.key === 'Enter' && beds[this.selected] !== undefined) this.openBed = beds[this.selected];
    else if (event.key.toLowerCase() === 'a' && this.canAcknowledge) {
      const bed = beds[this.selected];
      const target =
        [...this.store.alerts.values()].find(
          (v) => v.alert.bedId === bed && v.alert.state === 'active' && !v.alert.acknowledged,
        ) ?? this.mostUrgent();
      if (target !== undefined) void this.acknowledge(target.alert.id);
    } else if (event.key.toLowerCase() === 'p') this.sound.pause();
  };

  /** Columns for `n` tiles of about 2.2:1 on this screen. */
  private columns(n: number): number {
    const aspect = (window.innerWidth * 0.78) / Math.max(1, window.innerHeight - 90);
    return Math.max(1, Math.min(n, Math.round(Math.sqrt((n * aspect) / 2.2)) || 1));
  }

  private connectionBadge() {
    const c = this.store.connection;
    if (c.kind === 'open' && this.store.kafka.state === 'unreachable')
      return html`<span class="conn bad" role="status"
        >Kafka unreachable for ${clock((Date.now() - this.store.kafka.sinceMs) / 1000)}: data not live</span
      >`;
    if (c.kind === 'open') return html`<span class="conn ok" role="status">Live</span>`;
    if (c.kind === 'connecting') return html`<span class="conn warn" role="status">Connecting…</span>`;
    const reason = c.kind === 'retrying' ? `${c.reason}; retrying in ${c.inS} s` : c.reason;
    return html`<span class="conn bad" role="status">Disconnected: ${reason}</span>`;
  }

  override render() {
    if (this.token === '')
      return html`<header><h1>ECG central station</h1></header>
        <p class="notice">This screen needs a token: open the address the gateway printed (…/?token=…).</p>`;
    const beds = [...this.store.beds.keys()].sort();
    const columns = this.columns(beds.length);
    const rows = Math.max(1, Math.ceil(beds.length / columns));
    const urgent = this.mostUrgent();
    const signal = urgent === undefined ? undefined : ALARM_SIGNALS[urgent.alert.priority];
    const pauseLeft = this.sound.pauseLeftS;
    return html`
      <header>
        <h1>ECG central station</h1>
        ${this.connectionBadge()}
        ${
          this.store.dropped.frames > 0 && Date.now() - this.store.dropped.atMs < 10_000
            ? html`<span class="conn warn"
                >this screen fell behind: ${this.store.dropped.frames} waveform frames skipped</span
              >`
            : nothing
        }
        <span class="spacer"></span>
        <span class="muted"
          >${this.store.user === undefined ? '' : `${this.store.user.name} (${this.store.user.role})`}</span
        >
        ${
          this.sound.enabled
            ? html`<button @click=${() => this.sound.pause()} aria-live="polite">
                ${pauseLeft > 0 ? `Sound paused ${clock(pauseLeft)} (resume)` : 'Pause sound (P)'}
              </button>`
            : html`<button @click=${() => this.sound.enable()}>Enable alarm sound</button>`
        }
        <span class="muted">${new Date().toLocaleTimeString([], { hour12: false })}</span>
        ${this.notice === undefined ? nothing : html`<span class="notice muted" role="status">${this.notice}</span>`}
      </header>
      ${
        urgent === undefined
          ? html`<div class="banner calm">No unacknowledged alarm.</div>`
          : html`<div class="banner alarm-${urgent.alert.priority} flash-${urgent.alert.priority}" role="alert">
              <span>${signal!.marker} ${signal!.label}</span>
              <span>${urgent.alert.bedId} · ${alarmName(urgent.alert.type)}</span>
              <span>${clock((Date.now() - (urgent.alert.raisedAtMs ?? urgent.receivedMs)) / 1000)}</span>
              <span class="spacer"></span>
              <button @click=${() => (this.openBed = urgent.alert.bedId)}>Open bed</button>
              ${
                this.canAcknowledge
                  ? html`<button @click=${() => void this.acknowledge(urgent.alert.id)}>Acknowledge (A)</button>`
                  : nothing
              }
            </div>`
      }
      <main>
        <section
          class="grid"
          aria-label="beds"
          style="grid-template-columns: repeat(${columns}, minmax(0, 1fr)); grid-template-rows: repeat(${rows}, minmax(0, 1fr));"
        >
          ${beds.length === 0 ? html`<p class="notice muted">No bed is streaming yet.</p>` : nothing}
          ${repeat(
            beds,
            (bedId) => bedId,
            (bedId, i) =>
              html`<ecg-bed-tile .store=${this.store} .bedId=${bedId} ?selected=${i === this.selected}></ecg-bed-tile>`,
          )}
        </section>
        <ecg-alarm-list .store=${this.store} .canAcknowledge=${this.canAcknowledge}></ecg-alarm-list>
      </main>
      ${
        this.openBed === undefined
          ? nothing
          : html`<ecg-bed-view
              .store=${this.store}
              .api=${this.api}
              .bedId=${this.openBed}
              .canAcknowledge=${this.canAcknowledge}
            ></ecg-bed-view>`
      }
    `;
  }
}

customElements.define('ecg-central-station', CentralStation);
