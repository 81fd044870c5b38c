import Database from 'better-sqlite3';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayStore } from '../../gateway/store.js';
import { UserDirectory } from '../../gateway/users.js';
import type { AlertMessage } from '../../stream/contracts/messages.js';
import { runScript } from '../helpers/cli.js';

const alert = (id: string, state: 'active' | 'ended', extra: Partial<AlertMessage> = {}): AlertMessage => ({
  v: 1,
  id,
  bedId: id.split('/')[0]!,
  type: id.split('/')[1] as AlertMessage['type'],
  priority: 'medium',
  state,
  acknowledged: false,
  onsetS: 1,
  raisedS: 2,
  endS: state === 'ended' ? 3 : null,
  evidence: [],
  explanation: [],
  raisedAtMs: 1_000,
  publishedMs: 2_000,
  ...extra,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gateway-store-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('GatewayStore', () => {
  it('stores each alert message once, keeps each alarm latest state, and survives a restart', () => {
    const path = join(dir, 'a.db');
    const store = new GatewayStore(path);
    const first = store.addAlert(alert('bed-1/couplet/10', 'active'), 'ecg.alerts/0/5', 100)!;
    expect(store.addAlert(alert('bed-1/couplet/10', 'active'), 'ecg.alerts/0/5', 101)).toBeUndefined(); // read again
    store.addAlert(alert('bed-1/couplet/10', 'ended'), 'ecg.alerts/0/6', 102);
    store.addAlert(
      alert('bed-2/asystole/20', 'active', { priority: 'high', raisedAtMs: 5_000 }),
      'ecg.alerts/1/0',
      103,
    );
    const id = store.instanceId();
    store.close();
    const again = new GatewayStore(path);
    expect(again.instanceId()).toBe(id);
    expect(again.alertsSince(first.seq).map((v) => [v.alert.id, v.alert.state])).toEqual([
      ['bed-1/couplet/10', 'ended'],
      ['bed-2/asystole/20', 'active'],
    ]);
    expect(again.lastSeq()).toBe(again.alertsSince(0).at(-1)!.seq);
    expect(again.alarms({ limit: 10 }).map((v) => v.alert.id)).toEqual(['bed-2/asystole/20', 'bed-1/couplet/10']);
    expect(again.alarms({ limit: 10, priority: 'high' }).map((v) => v.alert.id)).toEqual(['bed-2/asystole/20']);
    expect(again.alarms({ limit: 10, bedId: 'bed-1', state: 'ended' })).toHaveLength(1);
    expect(again.alarms({ limit: 10, fromMs: 2_000 }).map((v) => v.alert.id)).toEqual(['bed-2/asystole/20']);
    expect(again.alarms({ limit: 1 })).toHaveLength(1);
    expect(again.alarms({ limit: 10, before: again.lastSeq() }).map((v) => v.alert.id)).toEqual(['bed-1/couplet/10']);
    again.setAcknowledgedBy('bed-2/asystole/20', 'nurse.jones', 6_000);
    expect(again.alert('bed-2/asystole/20')?.acknowledgedBy).toEqual({ by: 'nurse.jones', atMs: 6_000 });
    again.close();
  });

  it('keeps an append-only, hash-chained audit log whose edits audit:verify catches', async () => {
    const path = join(dir, 'audit.db');
    const store = new GatewayStore(path);
    const entry = {
      atMs: 1,
      actor: 'nurse.jones',
      role: 'nurse',
      action: 'acknowledge' as const,
      alertId: 'b/pause/1',
      bedId: 'b',
      detail: 'published',
    };
    store.audit(entry);
    store.audit({ ...entry, actor: 'nurse.lee' });
    expect(store.audit({ ...entry, action: 'acknowledgement' }, 'ecg.acks/0/1')).toBeDefined();
    expect(store.audit({ ...entry, action: 'acknowledgement' }, 'ecg.acks/0/1')).toBeUndefined(); // read again
    expect(store.verifyAudit()).toEqual({ rows: 3, intact: true });
    store.close();
    const intact = await runScript('apps/auditVerify.ts', ['--db', path]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('3 rows, chain intact');

    // the store itself refuses to edit it; someone who works around that is caught
    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 2").run()).toThrow('append-only');
    raw.exec('DROP TRIGGER audit_append_only_update');
    raw.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 2").run();
    raw.close();
    const broken = await runScript('apps/auditVerify.ts', ['--db', path]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('BROKEN at row 2 of 3: its fields do not give its hash: the row was edited');
    const missing = await runScript('apps/auditVerify.ts', ['--db', join(dir, 'none.db')]);
    expect(missing.code).toBe(2);
  });
});

describe('UserDirectory', () => {
  it('finds a user by token, hashed at rest, and refuses a wrong or missing one', async () => {
    const path = join(dir, 'users.json');
    const nurse = UserDirectory.addUser(path, { name: 'nurse.jones', role: 'nurse' });
    const viewer = UserDirectory.addUser(path, { name: 'desk', role: 'viewer' });
    expect(() => UserDirectory.addUser(path, { name: 'desk', role: 'admin' })).toThrow('desk is there already');
    const users = UserDirectory.fromFile(path);
    expect(users.authenticate(nurse)).toEqual({ name: 'nurse.jones', role: 'nurse' });
    expect(users.authenticate(viewer)).toEqual({ name: 'desk', role: 'viewer' });
    expect(users.authenticate(`${nurse}x`)).toBeUndefined();
    expect(users.authenticate(undefined)).toBeUndefined();
    const text = await import('node:fs/promises').then((fs) => fs.readFile(path, 'utf8'));
    expect(text).not.toContain(nurse);
    await writeFile(join(dir, 'bad.json'), '[{"name":"x","role":"root","tokenSha256":"00"}]');
    expect(() => UserDirectory.fromFile(join(dir, 'bad.json'))).toThrow(/bad\.json: 0\.role/);
  });
});
