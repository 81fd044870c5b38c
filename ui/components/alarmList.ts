import { css, html, LitElement, nothing } from 'lit';
import type { AlertView } from '../../stream/contracts/display.js';
import { ALARM_SIGNALS, PRIORITY_ORDER } from '../alarmPresentation.js';
import type { WardStore } from '../store.js';
import { alarmName, sharedStyles, StoreController, TickController } from './shared.js';

const time = (ms: number): string => new Date(ms).toLocaleTimeString([], { hour12: false });

/**
 * The alarm list: active alarms first (unacknowledged, then by priority), then those ended in the
 * last 30 minutes; each with its bed, priority in colour, marker and words, when it was raised, and
 * who acknowledged it when. Nurses (and admins) acknowledge from here.
 *
 * @fires acknowledge - `detail: alertId`: the nurse acknowledged it.
 * @fires open-bed - `detail: bedId`: the alarm's bed view.
 */
export class AlarmList extends LitElement {
  static override properties = { canAcknowledge: { type: Boolean } };
  declare canAcknowledge: boolean;
  store: WardStore | undefined;

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        background: var(--panel);
        border-left: 1px solid var(--border);
      }
      h2 {
        font-size: 1rem;
        margin: 8px 10px;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0 6px 6px;
        overflow-y: auto;
      }
      li {
        display: grid;
        grid-template-columns: auto 1fr auto;
        gap: 2px 8px;
        align-items: center;
        padding: 6px;
        margin-bottom: 4px;
        border-radius: 4px;
        background: #1b2330;
        border-left: 6px solid var(--border);
      }
      li.ended {
        opacity: 0.72;
      }
      .badge {
        font-weight: 800;
        padding: 1px 6px;
        border-radius: 3px;
        font-size: 0.8rem;
      }
      .what {
        font-weight: 700;
        font-size: 0.9rem;
        cursor: pointer;
      }
      .meta {
        grid-column: 2 / 4;
        font-size: 0.78rem;
      }
      .empty {
        padding: 10px;
      }
    `,
  ];

  constructor() {
    super();
    this.canAcknowledge = false;
    new StoreController(this, () => this.store, ['alerts']);
    new TickController(this, 5000);
  }

  private row(view: AlertView) {
    const a = view.alert;
    const signal = ALARM_SIGNALS[a.priority];
    const active = a.state === 'active';
    const flash = active && !a.acknowledged ? `flash-${a.priority}` : '';
    const raised = view.alert.raisedAtMs ?? view.receivedMs;
    const ack = view.acknowledgedBy;
    return html`<li class=${active ? 'active' : 'ended'} style="border-left-color:${signal.colour}" data-alert=${a.id}>
      <span class="badge alarm-${a.priority} ${flash}" title=${signal.label}>${signal.marker} ${signal.label}</span>
      <span
        class="what"
        tabindex="0"
        @click=${() => this.emit('open-bed', a.bedId)}
        @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.emit('open-bed', a.bedId)}
        >${a.bedId} · ${alarmName(a.type)}</span
      >
      ${
        active && !a.acknowledged && this.canAcknowledge
          ? html`<button
              @click=${() => this.emit('acknowledge', a.id)}
              aria-label="acknowledge ${alarmName(a.type)} of ${a.bedId}"
            >
              Acknowledge
            </button>`
          : html`<span></span>`
      }
      <span class="meta muted">
        ${active ? 'active' : 'ended'} · raised
        ${time(raised)}${a.detail === undefined ? nothing : html` · ${a.detail}`}
        ${
          a.acknowledged
            ? html` · acknowledged${ack === undefined ? '' : ` by ${ack.by} at ${time(ack.atMs)}`}`
            : nothing
        }
      </span>
    </li>`;
  }

  private emit(type: 'acknowledge' | 'open-bed', detail: string): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  override render() {
    const list = this.store?.alarmList(PRIORITY_ORDER) ?? [];
    const active = list.filter((v) => v.alert.state === 'active').length;
    return html`<h2>Alarms <span class="muted">(${active} active)</span></h2>
      ${
        list.length === 0
          ? html`<p class="empty muted">No alarm in the last 30 minutes.</p>`
          : html`<ol aria-label="alarms">
              ${list.slice(0, 200).map((v) => this.row(v))}
            </ol>`
      }`;
  }
}

customElements.define('ecg-alarm-list', AlarmList);
