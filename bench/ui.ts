/**
 * The central station's drawing speed: `beds` MIT-BIH records (two leads each, streaming at real
 * time through the embedded broker and a gateway) in one tab of headless Chromium (software
 * rendering), timed by the browser's own frame timing (requestAnimationFrame) for `seconds`.
 *   npm run bench:ui [-- --beds 32 --seconds 20 --json --screenshot FILE]
 */
import { embeddedKafka } from '../stream/kafka/connection.js';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import { benchGateway, launchBenchBrowser } from './browser.js';
import { machineLine } from './machine.js';
import { AlertWriter, benchAlert, percentile, streamWard, recordWard } from './ward.js';

const quiet = (): void => undefined;

async function main(): Promise<void> {
  const { values } = parseCommandLine('bench:ui', process.argv.slice(2), {
    beds: { type: 'string' },
    seconds: { type: 'string' },
    json: { type: 'boolean' },
    screenshot: { type: 'string' },
  });
  const beds = positiveNumber('bench:ui', 'beds', values.beds ?? '32', true);
  const seconds = positiveNumber('bench:ui', 'seconds', values.seconds ?? '20');
  const connection = embeddedKafka('bench-ui', quiet);
  const { gateway, token } = await benchGateway(connection);
  const stop = new AbortController();
  const ward = await recordWard(beds);
  const streaming = streamWard(connection.kafka, ward, stop.signal);
  // a few alarms on screen, flashing as a ward's would
  const writer = await AlertWriter.open(connection.kafka);
  for (const [k, bed] of ward.slice(0, 3).entries())
    await writer.write({
      ...benchAlert(bed.bed.bedId, k + 1, 'active'),
      ...(k === 0 ? { type: 'ventricular-tachycardia', priority: 'high' } : {}),
    });
  const browser = await launchBenchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${gateway.url}/?token=${token}`);
    // page scripts as text: they run in the page, not here
    await page.waitForFunction(
      `document.querySelector('ecg-central-station')?.shadowRoot?.querySelectorAll('ecg-bed-tile').length === ${beds}`,
      undefined,
      { timeout: 60_000 },
    );
    await page.waitForTimeout(3000); // every strip full, layout settled
    const stamps = (await page.evaluate(`new Promise((done) => {
      const t = [];
      const end = performance.now() + ${seconds * 1000};
      const frame = (now) => {
        t.push(now);
        if (now < end) requestAnimationFrame(frame);
        else done(t);
      };
      requestAnimationFrame(frame);
    })`)) as number[];
    if (values.screenshot !== undefined) await page.screenshot({ path: values.screenshot });
    const intervals = stamps.slice(1).map((t, i) => t - stamps[i]!);
    const result = {
      beds,
      leadsPerBed: 2,
      seconds,
      frames: intervals.length,
      fps: Number(((intervals.length * 1000) / (stamps.at(-1)! - stamps[0]!)).toFixed(1)),
      frameMsP50: Number(percentile(intervals, 50).toFixed(1)),
      frameMsP99: Number(percentile(intervals, 99).toFixed(1)),
      frameMsMax: Number(Math.max(...intervals).toFixed(1)),
      browser: `Chromium ${browser.version()} headless, --disable-gpu (software rendering), 1920x1080`,
      machine: machineLine(),
    };
    if (values.json === true) console.log(JSON.stringify(result));
    else {
      console.log(`bench:ui: ${result.browser}; ${result.machine}`);
      console.log(
        `  ${beds} beds, two leads at 125 Hz: ${result.fps} fps over ${seconds} s, frame interval p50 ${result.frameMsP50} ms, p99 ${result.frameMsP99} ms, max ${result.frameMsMax} ms`,
      );
    }
  } finally {
    await browser.close();
    stop.abort();
    await streaming.catch(quiet);
    await writer.close();
    await gateway.close();
    connection.close();
  }
}

runMain(main);
