/**
 * Throughput of the signal core on one core: filter + resample to 125 Hz + online R-peak
 * detection over the monitoring lead of every MIT-BIH record (then the same with beat-window
 * cutting), with the records already in memory so file I/O is not timed. Then how long after
 * its R peak each beat is cut, in signal time: its window, and the wait for the next beat
 * (`BeatWindow.rrNext`) of the beats that wait for it (none, the shipped rule's, all).
 *   npm run bench:dsp [-- --repeat 3]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import {
  EcgFilter,
  EcgFrontEnd,
  MODEL_HZ,
  Resampler,
  RPeakDetector,
  DEFAULT_ECG_FILTER,
  DEFAULT_RESAMPLER,
  DEFAULT_RPEAK_DETECTOR,
} from '../stream/dsp/index.js';
import { nextIntervalReadBelow, ruleOf } from '../stream/model/decision.js';
import { ENSEMBLE_FILE } from '../stream/model/io.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { listRecords, mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../stream/wfdb/index.js';
import { machineLine } from './machine.js';

interface Lead {
  readonly fs: number;
  readonly samples: Float32Array;
}

type Stage = (lead: Lead) => number;

const CHUNK_S = 0.25; // the live frame length

function detectOnly(lead: Lead): number {
  const filter = new EcgFilter({ ...DEFAULT_ECG_FILTER, fs: lead.fs });
  const resampler = new Resampler({ ...DEFAULT_RESAMPLER, inputHz: lead.fs, outputHz: MODEL_HZ });
  const detector = new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, fs: MODEL_HZ });
  const feed = (y: number): void => detector.step(y);
  let peaks = 0;
  const chunk = Math.round(lead.fs * CHUNK_S);
  for (let start = 0; start < lead.samples.length; start += chunk) {
    const end = Math.min(lead.samples.length, start + chunk);
    for (let i = start; i < end; i++) resampler.step(filter.step(lead.samples[i] as number), feed);
    peaks += detector.drain().length;
  }
  return peaks;
}

function frontEnd(lead: Lead): number {
  const fe = new EcgFrontEnd({ sourceHz: lead.fs });
  let windows = 0;
  const chunk = Math.round(lead.fs * CHUNK_S);
  for (let start = 0; start < lead.samples.length; start += chunk) {
    windows += fe.push(lead.samples.subarray(start, start + chunk)).windows.length;
  }
  return windows;
}

/**
 * Seconds of signal from each beat's R peak to the 250 ms chunk whose arrival cut it, and how
 * many beats the wait for the next one ran out on, when beats whose RR is below
 * `nextBeatWaitBelow` of the baseline wait for the next beat.
 */
function cutDelays(leads: readonly Lead[], nextBeatWaitBelow: number): { delays: number[]; waitedOut: number } {
  const delays: number[] = [];
  let waitedOut = 0;
  for (const lead of leads) {
    const fe = new EcgFrontEnd({ sourceHz: lead.fs, window: { nextBeatWaitBelow } });
    const chunk = Math.round(lead.fs * CHUNK_S);
    let n = 0;
    for (let start = 0; start < lead.samples.length; start += chunk) {
      const out = fe.push(lead.samples.subarray(start, start + chunk));
      n += out.samples.length;
      for (const w of out.windows) {
        delays.push((n - w.rPeak) / MODEL_HZ);
        if (w.rrNext === Infinity) waitedOut++;
      }
    }
  }
  return { delays: delays.sort((a, b) => a - b), waitedOut };
}

function measure(name: string, stage: Stage, leads: readonly Lead[], repeat: number): void {
  const samples = leads.reduce((n, l) => n + l.samples.length, 0);
  const signalS = leads.reduce((s, l) => s + l.samples.length / l.fs, 0);
  let best = Infinity;
  let events = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    events = leads.reduce((n, l) => n + stage(l), 0);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const perS = samples / best;
  console.log(
    `${name.padEnd(38)} ${(signalS / 3600).toFixed(2)} h of ECG in ${best.toFixed(2)} s | ` +
      `${(perS / 1e6).toFixed(2)} M samples/s | ${Math.round(signalS / best)}x real time | ${events} events`,
  );
}

async function main(): Promise<void> {
  const { values } = parseCommandLine('bench:dsp', process.argv.slice(2), { repeat: { type: 'string' } });
  const repeat = positiveNumber('bench:dsp', 'repeat', values.repeat ?? '3', true);
  const dir = mitdbDir();
  const leads: Lead[] = [];
  for (const name of await listRecords(dir)) {
    const record = await readRecord(dir, name);
    leads.push({
      fs: record.header.samplingFrequency,
      samples: toPhysical(record.signals[monitoringLeadIndex(record.header)]!),
    });
  }
  console.log(
    `bench:dsp | ${machineLine()} | one core (main thread), best of ${repeat}, ${leads.length} records, ${CHUNK_S * 1000} ms chunks`,
  );
  measure('filter + resample + detect', detectOnly, leads, repeat);
  measure('filter + resample + detect + windows', frontEnd, leads, repeat);
  // a bed waits as the shipped model's rule needs; the dataset builder waits at every beat
  const metadata = JSON.parse(await readFile(join(SHIPPED_MODEL_DIR, ENSEMBLE_FILE), 'utf8')) as {
    metadata: Record<string, unknown>;
  };
  const shipped = nextIntervalReadBelow(ruleOf(metadata.metadata));
  const waits: [string, number][] = [
    ['no beat waits', 0],
    [`beats with RR < ${shipped.toFixed(4)} x baseline wait (shipped rule)`, shipped],
    ['every beat waits (dataset builder)', Infinity],
  ];
  for (const [name, below] of waits) {
    const { delays, waitedOut } = cutDelays(leads, below);
    const at = (q: number): string => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!.toFixed(2);
    console.log(
      `R peak -> beat cut (signal time), ${name}: p50 ${at(0.5)} s, p90 ${at(0.9)} s, ` +
        `p99 ${at(0.99)} s, max ${delays.at(-1)!.toFixed(2)} s over ${delays.length} beats; ` +
        `the wait for the next beat ran out on ${waitedOut}`,
    );
  }
}

runMain(main);
