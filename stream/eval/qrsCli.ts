import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, prepareOutput, runMain } from '../cli.js';
import { codeForSymbol, encodeAnnotations, mitdbDir, selectRecords } from '../wfdb/index.js';
import { evaluateQrsRecord, type QrsRecordResult } from './qrsEval.js';
import { formatQrsReport, summariseQrs } from './qrsReport.js';

const USAGE = `npm run eval:qrs -- [--records 100,208] [--json] [--write-annotations DIR] [--score-vf] [--data-dir DIR]

Replays the monitoring lead of MIT-BIH records through the online detector and scores it
beat by beat against the reference annotations (ANSI/AAMI EC57, 150 ms window).
  --records             comma-separated record names (default: every record in the data dir)
  --json                print one JSON object instead of the table
  --write-annotations   also write DIR/REC.qrs (MIT format, readable by rdann and bxb)
  --score-vf            score inside ventricular flutter episodes too (EC57 excludes them)
  --data-dir            record directory (default: $MITDB_DIR or ../shared/data/mitdb)`;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'eval:qrs',
    process.argv.slice(2),
    {
      records: { type: 'string' },
      json: { type: 'boolean' },
      'write-annotations': { type: 'string' },
      'score-vf': { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
    USAGE,
  );
  const dir = values['data-dir'] ?? mitdbDir();
  const records = await selectRecords(dir, values.records, 'eval:qrs');
  const outDir =
    values['write-annotations'] === undefined
      ? undefined
      : await prepareOutput('eval:qrs', '--write-annotations', values['write-annotations'], 'folder');
  const scoreVf = values['score-vf'] === true;
  const results: QrsRecordResult[] = [];
  for (const record of records) {
    const result = await evaluateQrsRecord(dir, record, { scoreVf });
    results.push(result);
    if (outDir !== undefined) {
      const normal = codeForSymbol('N');
      const annotations = result.detections.map((d) => ({ sample: Math.round(d.sourceSample), code: normal }));
      await writeFile(join(outDir, `${record}.qrs`), encodeAnnotations(annotations));
    }
    if (process.stderr.isTTY) process.stderr.write(`\r${results.length}/${records.length} records`);
  }
  const report = summariseQrs(results, scoreVf);
  if (values.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${process.stderr.isTTY ? '\r' : ''}${formatQrsReport(report)}\n`);
}

runMain(main);
