import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import { escapeHtml } from './html.js';
import type { ModelEvaluation } from '../stream/model/evaluate.js';
import type { EpochRecord } from '../stream/model/train.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#7f7f7f'];
const pct = (x: number): string => (Number.isNaN(x) ? '–' : `${(100 * x).toFixed(2)} %`);

function polyline(points: [number, number][], w: number, h: number, color: string, yMax = 1, xMax = 1): string {
  const d = points.map(([x, y]) => `${((x / xMax) * w).toFixed(1)},${(h - (y / yMax) * h).toFixed(1)}`).join(' ');
  return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`;
}

function frame(w: number, h: number, body: string, caption: string): string {
  return `<figure><svg viewBox="-30 -10 ${w + 40} ${h + 30}" width="${w + 40}" height="${h + 30}">
<rect x="0" y="0" width="${w}" height="${h}" fill="#fafafa" stroke="#999"/>${body}</svg><figcaption>${caption}</figcaption></figure>`;
}

function confusionTable(confusion: number[][]): string {
  const max = Math.max(1, ...confusion.flat());
  const rows = confusion
    .map((row, t) => {
      const cells = row
        .map((v) => `<td style="background:rgba(31,119,180,${(Math.log1p(v) / Math.log1p(max)).toFixed(2)})">${v}</td>`)
        .join('');
      return `<tr><th>${AAMI_CLASSES[t]}</th>${cells}</tr>`;
    })
    .join('');
  return `<table class="cm"><tr><th>true \\ predicted</th>${AAMI_CLASSES.map((c) => `<th>${c}</th>`).join('')}</tr>${rows}</table>`;
}

function rocPlot(roc: ModelEvaluation['roc'], auc: Record<string, number>): string {
  const w = 320;
  const body = AAMI_CLASSES.map((c, k) => polyline(roc[c], w, w, COLORS[k]!)).join('');
  const legend = AAMI_CLASSES.map(
    (c, k) =>
      `<span style="color:${COLORS[k]}">■ ${c} (AUC ${Number.isNaN(auc[c]!) ? '–' : auc[c]!.toFixed(4)})</span>`,
  ).join(' ');
  return frame(w, w, body, `ROC curves, one class against the rest (FPR → , TPR ↑). ${legend}`);
}

function trainingPlot(history: readonly EpochRecord[]): string {
  if (history.length === 0) return '<p>No training history beside this model.</p>';
  const w = 420;
  const h = 200;
  const maxLoss = Math.max(...history.flatMap((e) => [e.trainLoss, e.validationLoss]));
  const xs = (f: (e: EpochRecord) => number): [number, number][] => history.map((e, i) => [i, f(e)]);
  const xMax = Math.max(1, history.length - 1);
  const body =
    polyline(
      xs((e) => e.trainLoss),
      w,
      h,
      COLORS[0]!,
      maxLoss,
      xMax,
    ) +
    polyline(
      xs((e) => e.validationLoss),
      w,
      h,
      COLORS[1]!,
      maxLoss,
      xMax,
    ) +
    polyline(
      xs((e) => e.validationMacroF1),
      w,
      h,
      COLORS[2]!,
      1,
      xMax,
    );
  return frame(
    w,
    h,
    body,
    `Training curves over ${history.length} epochs: <span style="color:${COLORS[0]}">train loss</span>, ` +
      `<span style="color:${COLORS[1]}">validation loss</span> (0..${maxLoss.toFixed(3)}), ` +
      `<span style="color:${COLORS[2]}">validation macro F1</span> (0..1).`,
  );
}

function examplePlot(e: ModelEvaluation['examples'][number]): string {
  const w = 374;
  const h = 120;
  const L = e.window.length;
  const bars = e.cam
    .map(
      (v, i) =>
        `<rect x="${((i / L) * w).toFixed(1)}" y="0" width="${(w / L + 0.5).toFixed(1)}" height="${h}" fill="rgba(214,39,40,${(0.6 * v).toFixed(2)})"/>`,
    )
    .join('');
  const line = polyline(
    e.window.map((v, i) => [i, v]),
    w,
    h,
    '#000',
    1,
    L - 1,
  );
  return frame(
    w,
    h,
    bars + line,
    `A ${e.label} beat (normalised window) with its Grad-CAM for class ${e.predicted}: redder = more influence.`,
  );
}

export function renderReport(
  title: string,
  facts: Record<string, string>,
  evaluation: ModelEvaluation,
  history: readonly EpochRecord[],
): string {
  const m = evaluation.metrics;
  const perClass = AAMI_CLASSES.map((c) => {
    const p = m.perClass[c];
    return `<tr><th>${c}</th><td>${p.support}</td><td>${pct(p.precision)}</td><td>${pct(p.recall)}</td><td>${p.f1.toFixed(4)}</td><td>${pct(p.specificity)}</td><td>${Number.isNaN(p.auc) ? '–' : p.auc.toFixed(4)}</td></tr>`;
  }).join('');
  const ec57 = (['N', 'S', 'V', 'F'] as const)
    .map(
      (c) =>
        `<tr><th>${c}</th><td>${evaluation.ec57[c].se.toFixed(2)}</td><td>${evaluation.ec57[c].ppv.toFixed(2)}</td></tr>`,
    )
    .join('');
  const curve = evaluation.prematurityCurve
    .map((q) => {
      const cell = (x: string): string => (q.isRule ? `<b>${x}</b>` : x);
      return `<tr><th>${cell(q.ratio.toFixed(2))}</th><td>${cell(q.se.toFixed(2))}</td><td>${cell(q.ppv.toFixed(2))}</td></tr>`;
    })
    .join('');
  const prematurity =
    curve === ''
      ? ''
      : `<h3>S against the prematurity ratio</h3><p>The rule labels S an N call whose RR is below a share (the ratio) of its reference RR in a regular rhythm (decision rule above). S Se and +P (EC57) had that ratio been another, the rest of the rule as it is; the rule's own in bold. For reading the trade-off: a ratio picked on these beats would be tuned on the test set.</p><table><tr><th>ratio</th><th>S Se %</th><th>S +P %</th></tr>${curve}</table>`;
  const f = evaluation.faithfulness;
  const auc = Object.fromEntries(AAMI_CLASSES.map((c) => [c, m.perClass[c].auc]));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
figure{display:inline-block;margin:0.5em 1em 0.5em 0;vertical-align:top}figcaption{max-width:420px;font-size:12px;color:#555}.cm td{min-width:4em}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<table>${Object.entries(facts)
    .map(
      ([k, v]) =>
        `<tr><th style="text-align:left">${escapeHtml(k)}</th><td style="text-align:left">${escapeHtml(v)}</td></tr>`,
    )
    .join('')}</table>
<h2>Summary</h2><p>${m.count} test beats: accuracy <b>${pct(m.accuracy)}</b>, weighted F1 <b>${m.weightedF1.toFixed(4)}</b>, macro F1 <b>${m.macroF1.toFixed(4)}</b>.</p>
<h2>Per class</h2><table><tr><th>class</th><th>beats</th><th>precision</th><th>recall</th><th>F1</th><th>specificity</th><th>ROC AUC</th></tr>${perClass}</table>
<h2>EC57 figures</h2><p>V and S as ANSI/AAMI EC57 counts ectopic beats (a fusion or unclassifiable beat labelled V, or an unclassifiable beat labelled S, is not a false positive); N and F are plain class recall and precision. Only beats the detector found are scored here; <code>npm run validate</code> also counts missed beats.</p><table><tr><th>class</th><th>Se %</th><th>+P %</th></tr>${ec57}</table>${prematurity}
<h2>Confusion matrix</h2>${confusionTable(m.confusion)}
<h2>ROC and training</h2>${rocPlot(evaluation.roc, auc)}${trainingPlot(history)}
<h2>Grad-CAM</h2><p>Faithfulness on ${f.beats} test beats: deleting the top ${(100 * f.fraction).toFixed(0)} % Grad-CAM samples lowers the predicted class's probability by <b>${f.topDrop.toFixed(4)}</b> on average; deleting as many random samples lowers it by <b>${f.randomDrop.toFixed(4)}</b>. ${f.topDrop > f.randomDrop ? 'The explanation points at what the model uses.' : '<b>The explanation is not faithful.</b>'}</p>
${evaluation.examples.map(examplePlot).join('')}
</body></html>
`;
}
