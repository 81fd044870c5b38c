import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { AamiClass } from '../../stream/contracts/aami.js';
import type { BeatView } from '../../stream/contracts/display.js';
import { BEAT_COLOURS, THEME } from '../alarmPresentation.js';
import { sharedStyles } from './shared.js';

/** What the beat inspector shows: a beat the classifier explained. */
export interface InspectedBeat {
  readonly bedId: string;
  readonly rPeakSample: number;
  readonly label: AamiClass;
  /** The normalised window the classifier saw, and where its R peak is. */
  readonly window: readonly number[];
  readonly rIndex: number;
  /** Grad-CAM, 0..1 per sample: where the network looked to call it `label`. */
  readonly gradCam: readonly number[];
  /** The beat as published (probabilities, decision step), where this screen has it. */
  readonly beat: BeatView | undefined;
  /** The patient's normal beat, normalised the same way, for comparison. */
  readonly template: readonly number[] | undefined;
}

const STEP_WORDS: Record<string, string> = {
  network: "the networks' most probable class",
  family: "the beat's morphology family voted on its V probability",
  premature: 'an N call relabelled S: the beat came early for the patient',
  'irregular-rhythm': 'an S call relabelled N: the rhythm is irregular (AF-like)',
  'not-premature': 'an S call relabelled N: the beat was not early',
  'premature-pause': 'an N call relabelled S: early, and a pause followed',
};

/**
 * The beat inspector: the chosen beat with its Grad-CAM curve as a heat overlay behind it, the
 * patient's normal beat beside it (dashed), the class probabilities and the step of the decision
 * rule that set the label.
 *
 * @csspart plot - the canvas of the beat and its overlay.
 */
export class BeatInspector extends LitElement {
  static override properties = { inspected: { attribute: false } };
  declare inspected: InspectedBeat | undefined;

  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        grid-template-columns: minmax(280px, 2fr) minmax(200px, 1fr);
        gap: 12px;
        background: var(--panel);
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 10px;
      }
      canvas {
        width: 100%;
        height: 220px;
        background: var(--bg);
        border-radius: 4px;
      }
      .legend {
        font-size: 0.8rem;
      }
      .bar {
        display: grid;
        grid-template-columns: 1.5em 1fr 3.5em;
        align-items: center;
        gap: 6px;
        font-size: 0.85rem;
      }
      .bar span.fill {
        display: block;
        height: 10px;
        border-radius: 2px;
      }
      h3 {
        margin: 0 0 6px;
        font-size: 1rem;
      }
    `,
  ];

  constructor() {
    super();
    this.inspected = undefined;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('inspected')) this.draw();
  }

  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const beat = this.inspected;
    if (canvas === null || beat === undefined) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    const ctx = canvas.getContext('2d')!;
    const { width: w, height: h } = canvas;
    ctx.fillStyle = THEME.background;
    ctx.fillRect(0, 0, w, h);
    const n = beat.window.length;
    const x = (k: number): number => (k / (n - 1)) * w;
    const y = (v: number): number => h - 12 * ratio - v * (h - 24 * ratio);
    // Grad-CAM as heat behind the beat: the stronger, the redder
    beat.gradCam.forEach((g, k) => {
      ctx.fillStyle = `rgba(255, ${Math.round(140 - 100 * g)}, 40, ${(0.75 * g).toFixed(3)})`;
      ctx.fillRect(x(k) - w / n / 2, 0, w / n + 1, h);
    });
    ctx.strokeStyle = '#ffffff55';
    ctx.beginPath();
    ctx.moveTo(x(beat.rIndex), 0);
    ctx.lineTo(x(beat.rIndex), h);
    ctx.stroke();
    const line = (values: readonly number[], colour: string, dashed: boolean): void => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2 * ratio;
      ctx.setLineDash(dashed ? [6 * ratio, 4 * ratio] : []);
      ctx.beginPath();
      values.forEach((v, k) => (k === 0 ? ctx.moveTo(x(k), y(v)) : ctx.lineTo(x(k), y(v))));
      ctx.stroke();
    };
    if (beat.template !== undefined) line(beat.template, '#b8c4d0', true);
    line(beat.window, BEAT_COLOURS[beat.label] === BEAT_COLOURS.N ? THEME.trace : BEAT_COLOURS[beat.label]!, false);
    ctx.setLineDash([]);
  }

  override render() {
    const beat = this.inspected;
    if (beat === undefined) return html`<p class="muted">Choose an evidence beat of an alarm.</p>`;
    const p = beat.beat?.probabilities;
    return html`
      <div>
        <canvas part="plot" aria-label="beat ${beat.rPeakSample} with its Grad-CAM"></canvas>
        <p class="legend muted">
          Solid: this beat as the classifier saw it (normalised). Dashed: the patient's normal beat. Red shading:
          Grad-CAM, where the network looked to call it ${beat.label}. Vertical line: the R peak.
          ${beat.template === undefined ? html`No normal beat of this patient yet.` : nothing}
        </p>
      </div>
      <div>
        <h3>
          Beat at sample ${beat.rPeakSample}: <span style="color:${BEAT_COLOURS[beat.label]}">${beat.label}</span>
        </h3>
        ${
          p === undefined
            ? html`<p class="muted">Probabilities not on this screen (the beat is older than it has kept).</p>`
            : html`${(Object.keys(p) as AamiClass[]).map(
                  (c) =>
                    html`<div class="bar">
                      <b style="color:${BEAT_COLOURS[c]}">${c}</b>
                      <span class="fill" style="width:${Math.max(1, p[c] * 100)}%;background:${BEAT_COLOURS[c]}"></span>
                      <span>${(p[c] * 100).toFixed(1)}%</span>
                    </div>`,
                )}
                <p>
                  Decided by: <b>${beat.beat!.reason}</b><br /><span class="muted"
                    >${STEP_WORDS[beat.beat!.reason] ?? ''}</span
                  >
                </p>
                <p class="muted">p(V) after the family vote: ${(beat.beat!.votedV * 100).toFixed(1)}%</p>
                ${beat.beat!.reference === undefined ? nothing : html`<p>Reference (cardiologists): <b>${beat.beat!.reference}</b></p>`}`
        }
      </div>
    `;
  }
}

customElements.define('ecg-beat-inspector', BeatInspector);
