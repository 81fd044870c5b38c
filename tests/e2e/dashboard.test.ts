import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startMonitor } from '../helpers/browser.js';

const SHOTS = 'out/e2e';
let monitor: { child: ChildProcess; url: string; stderr: () => string };
let browser: Browser;
let page: Page;

/** The central station's shadow root, where every component lives. */
const station = 'document.querySelector("ecg-central-station").shadowRoot';

/** A hash of each bed tile's strip pixels, by bed. */
async function stripHashes(): Promise<Record<string, number>> {
  return page.evaluate(`(() => {
    const out = {};
    for (const tile of ${station}.querySelectorAll('ecg-bed-tile')) {
      const canvas = tile.shadowRoot.querySelector('canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let h = 0;
      for (let i = 0; i < data.length; i += 7) h = (h * 31 + data[i]) >>> 0;
      out[tile.bedId] = h;
    }
    return out;
  })()`);
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  monitor = await startMonitor(
    ['--records', '100,119,208,233', '--speed', '2', '--duration', '170', '--summary-every', '600'],
    200_000,
  );
  browser = await launchChromium();
  // the test's own probes run as page scripts: let them past the page's content security policy
  page = await browser.newPage({ viewport: { width: 1600, height: 900 }, bypassCSP: true });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(monitor.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (monitor === undefined) return;
  // stopped as a nurse's Ctrl-C stops it, and gone before the next test file starts
  const exited = new Promise((done) => monitor.child.once('exit', done));
  monitor.child.kill('SIGINT');
  const killer = setTimeout(() => monitor.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
}, 30_000);

describe('the central station in headless Chromium, on npm start', () => {
  it('draws every bed: each strip changes over time', async () => {
    await page.waitForFunction(`${station}.querySelectorAll('ecg-bed-tile').length === 4`, undefined, {
      timeout: 60_000,
    });
    // the address bar keeps no token
    expect(page.url()).not.toContain('token=');
    await page.waitForTimeout(3000);
    const before = await stripHashes();
    await page.waitForTimeout(1500);
    const after = await stripHashes();
    expect(Object.keys(after).sort()).toEqual(['bed-01', 'bed-02', 'bed-03', 'bed-04']);
    for (const bed of Object.keys(after)) expect(after[bed], `${bed} drew nothing new`).not.toBe(before[bed]);
    await page.screenshot({ path: `${SHOTS}/central-station.png` });
  }, 90_000);

  it("shows a replayed record's alarm, opens its Grad-CAM overlay, acknowledges an alarm and finds it in the audit", async () => {
    // record 208 (bed-03) raises explained couplets within seconds
    const couplet = `${station}.querySelector('ecg-alarm-list').shadowRoot.querySelector('li[data-alert*="/couplet/"] .what')`;
    await page.waitForFunction(
      `(() => { const c = ${couplet}; if (c === null) return false; c.click(); return true; })()`,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const view = `${station}.querySelector('ecg-bed-view').shadowRoot`;
    await page.waitForFunction(`${view}.querySelector('button.evidence') !== null`, undefined, { timeout: 30_000 });
    await page.evaluate(`${view}.querySelector('button.evidence').click()`);
    const inspector = `${view}.querySelector('ecg-beat-inspector').shadowRoot`;
    await page.waitForFunction(`${inspector}.querySelector('canvas') !== null`, undefined, { timeout: 30_000 });
    const overlay = await page.evaluate(`(() => {
      const canvas = ${inspector}.querySelector('canvas');
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 140 && d[i + 2] < 90) red++;
      return red;
    })()`);
    expect(overlay, 'the Grad-CAM heat overlay').toBeGreaterThan(100);
    await page.screenshot({ path: `${SHOTS}/beat-inspector.png` });
    await page.keyboard.press('Escape');
    await page.waitForFunction(`${station}.querySelector('ecg-bed-view') === null`, undefined, { timeout: 10_000 });

    // an active alarm: the nurse (the development user is an admin) acknowledges it from the list
    const button = `${station}.querySelector('ecg-alarm-list').shadowRoot.querySelector('li.active button')`;
    // found and clicked in one step: an active alarm may end between two page round trips
    const clicked = await page.waitForFunction(
      `(() => { const b = ${button}; if (b === null) return null; b.click(); return b.closest('li').dataset.alert; })()`,
      undefined,
      { timeout: 90_000 },
    );
    const alertId = (await clicked.jsonValue()) as string;
    const row = `${station}.querySelector('ecg-alarm-list').shadowRoot.querySelector('li[data-alert="${alertId}"] .meta')`;
    await page.waitForFunction(`${row}?.textContent.includes('acknowledged by developer')`, undefined, {
      timeout: 30_000,
    });
    await page.screenshot({ path: `${SHOTS}/acknowledged.png` });
    const audit = (await page.evaluate(
      `fetch('/api/audit', { headers: { authorization: 'Bearer ' + sessionStorage.getItem('ecg-token') } }).then((r) => r.json())`,
    )) as {
      entries: { action: string; actor: string; alertId: string }[];
      verified: { intact: boolean };
    };
    expect(audit.verified.intact).toBe(true);
    expect(audit.entries.filter((e) => e.alertId === alertId).map((e) => [e.action, e.actor])).toEqual(
      expect.arrayContaining([
        ['acknowledge', 'developer'],
        ['acknowledgement', 'developer'],
      ]),
    );
  }, 180_000);
});
