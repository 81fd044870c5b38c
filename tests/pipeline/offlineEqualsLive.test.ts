import { AAMI_CLASSES } from '../../stream/contracts/aami.js';
import { firstValueFrom, from, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordFrames } from '../../simulators/replay.js';
import { initBackend } from '../../stream/model/backend.js';
import { beatIndices, buildBeatSet, labelledBeats, UNLABELLED } from '../../stream/model/dataset.js';
import { evaluateModel } from '../../stream/model/evaluate.js';
import { BeatClassifier } from '../../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../../stream/model/shipped.js';
import { modelClassifier } from '../../stream/pipeline/classifier.js';
import { monitorWard, type ClassifiedBeat } from '../../stream/pipeline/ward.js';
import { mitdbDir, readRecord } from '../../stream/wfdb/index.js';

// 228's V beats sit near the V/F line, so a family vote that heard other beats than the
// monitor's families would label dozens of them otherwise (50 did while the
// evaluation did not hear the detections that the reference does not label).
const RECORD = '228';
const SECONDS = 600;
const FS = 360;

beforeAll(async () => {
  await initBackend('wasm', () => undefined);
});

describe("eval:model's labels are the monitor's", () => {
  it(`labels every beat of ${RECORD}'s first ${SECONDS / 60} minutes as the pipeline does live`, async () => {
    const classifier = await BeatClassifier.load(SHIPPED_MODEL_DIR);
    const r = await readRecord(mitdbDir(), RECORD);
    const frames = [...recordFrames(r, 'bed', `mitdb/${RECORD}`)].slice(0, (SECONDS * 1000) / 250);
    const events = await firstValueFrom(
      from(frames).pipe(monitorWard({ classify: modelClassifier(classifier) }), toArray()),
    );
    const live: ClassifiedBeat[] = events.flatMap((e) => (e.kind === 'beat' ? [e.beat] : []));

    const set = await buildBeatSet(mitdbDir(), [RECORD], { frontEnd: { window: classifier.layout.cut } });
    // the detections whose windows were complete within the frames the ward was given
    const windowAfterS = (set.windowLength - set.rIndex) / 125;
    const heard = beatIndices(set, (i) => set.sourceSample[i]! / FS + windowAfterS <= SECONDS - 0.25);
    expect(heard.length).toBeLessThanOrEqual(live.length);
    expect(Array.from(heard).some((i) => set.labels[i] === UNLABELLED)).toBe(true); // the case that matters
    const test = labelledBeats(set, heard);
    const { predictions } = await evaluateModel([{ model: classifier.model, test, heard }], set, {
      rule: classifier.rule,
      layout: classifier.layout,
      faithfulnessBeats: 10,
    });

    const differing: string[] = [];
    test.forEach((i, k) => {
      const t = set.sourceSample[i]!;
      const beat = live.find((b) => Math.abs(b.rPeakSample - t) < 0.02 * FS);
      const offline = AAMI_CLASSES[predictions.predicted[k]!];
      if (beat?.label !== offline) differing.push(`${(t / FS).toFixed(2)} s: offline ${offline}, live ${beat?.label}`);
    });
    expect(test.length).toBeGreaterThan(600);
    expect(differing).toEqual([]);
    expect(predictions.reasons.filter((reason) => reason === 'family').length).toBeGreaterThan(10);
  });
});

describe("a ward's beat families", () => {
  it('start afresh with every subscription of the ward (a new group generation), on the one classifier', async () => {
    const classify = modelClassifier(await BeatClassifier.load(SHIPPED_MODEL_DIR));
    const r = await readRecord(mitdbDir(), '208');
    const frames = [...recordFrames(r, 'bed', 'mitdb/208')].slice(0, (120 * 1000) / 250);
    const beats = async () => {
      const events = await firstValueFrom(from(frames).pipe(monitorWard({ classify }), toArray()));
      return events.flatMap((e) => (e.kind === 'beat' ? [e.beat] : []));
    };
    const first = await beats();
    // the families spoke: a beat's voted p(V) is not the network's own once its family has members
    expect(first.filter((b) => b.decision!.votedV !== b.probabilities.V).length).toBeGreaterThan(100);
    const second = await beats();
    expect(second.map((b) => [b.rPeakSample, b.label, b.decision])).toEqual(
      first.map((b) => [b.rPeakSample, b.label, b.decision]),
    );
  });
});
