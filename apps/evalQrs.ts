import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, prepareOutput, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { codeForSymbol, encodeAnnotations, mitdbDir, selectRecords, WfdbError } from '../stream/wfdb/index.js';
import { evaluateQrsRecord, type QrsRecordResult } from '../stream/eval/qrsEval.js';
import { formatQrsReport, summariseQrs } from '../stream/eval/qrsReport.js';

const USAGE = `npm run eval:qrs -- [--records 100,208] [--json] [--write-annotations DIR] [--score-vf] [--dir DIR]

Replays the monitoring lead of MIT-BIH records through the online detector and scores it
beat by beat against the reference annotations (ANSI/AAMI EC57, 150 ms window).
  --records             comma-separated record names (default: every record in the data dir)
  --json                print one JSON object instead of the table
  --write-annotations   also write DIR/REC.qrs (MIT format, readable by rdann and bxb)
  --score-vf            score inside ventricular flutter episodes too (EC57 excludes them)
  --dir                 record directory (default: $MITDB_DIR or ../shared/data/mitdb)`;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'eval:qrs',
    process.argv.slice(2),
    {
      records: { type: 'string' },
      json: { type: 'boolean' },
      'write-annotations': { type: 'string' },
      'score-vf': { type: 'boolean' },
      dir: { type: 'string' },
    },
    USAGE,
  );
  const dir = values.dir ?? mitdbDir();
  const records = await selectRecords(dir, values.records, 'eval:qrs');
  const outDir =
    values['write-annotations'] === undefined
      ? undefined
      : await prepareOutput('eval:qrs', '--write-annotations', values['write-annotations'], 'folder');
  const scoreVf = values['score-vf'] === true;
  const results: QrsRecordResult[] = [];
  // a record whose files are missing or corrupt is named and left out; the others are scored
  const unreadableRecords: { record: string; reason: string }[] = [];
  for (const record of records) {
    let result: QrsRecordResult;
    try {
      result = await evaluateQrsRecord(dir, record, { scoreVf });
    } catch (error) {
      if (!(error instanceof WfdbError)) throw error;
      unreadableRecords.push({ record, reason: error.message });
      process.stderr.write(`eval:qrs: ${record} not scored: ${error.message}\n`);
      continue;
    }
    results.push(result);
    if (outDir !== undefined) {
      const normal = codeForSymbol('N');
      const annotations = result.detections.map((d) => ({ sample: Math.round(d.sourceSample), code: normal }));
      await writeFile(join(outDir, `${record}.qrs`), encodeAnnotations(annotations));
    }
    if (process.stderr.isTTY) process.stderr.write(`\r${results.length}/${records.length} records`);
  }
  if (results.length === 0) throw new ConfigError('eval:qrs: none of the records could be read');
  const report = summariseQrs(results, scoreVf);
  if (values.json === true) process.stdout.write(`${JSON.stringify({ ...report, unreadableRecords })}\n`);
  else {
    const notScored = unreadableRecords.map((u) => `\nnot scored: ${u.record}: ${u.reason}`).join('');
    process.stdout.write(`${process.stderr.isTTY ? '\r' : ''}${formatQrsReport(report)}${notScored}\n`);
  }
  // the figures above leave those records out: not a clean run
  if (unreadableRecords.length > 0) process.exitCode = 1;
}

runMain(main);
