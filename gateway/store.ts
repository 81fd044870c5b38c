import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AlertView } from '../stream/contracts/display.js';
import type { AlertMessage } from '../stream/contracts/messages.js';

/** One row of the acknowledgement audit log. */
export interface AuditEntry {
  readonly seq: number;
  readonly atMs: number;
  /** Who: an authenticated user of this gateway, or the `by` of an acknowledgement read from `ecg.acks`. */
  readonly actor: string;
  readonly role: string | null;
  /** `acknowledge` (asked here), `refused` (asked here, not allowed), `acknowledgement` (read in ecg.acks). */
  readonly action: 'acknowledge' | 'refused' | 'acknowledgement';
  readonly alertId: string | null;
  readonly bedId: string | null;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AlertQuery {
  readonly bedId?: string;
  readonly type?: string;
  readonly priority?: string;
  readonly state?: string;
  /** Raised at or after / before, wall clock ms. */
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit: number;
  /** The `seq` of the last alert of the previous page: the page goes on below it. */
  readonly before?: number;
}

/** The first row's previous hash: the chain's anchor. */
const GENESIS = '0'.repeat(64);

/** An audit row's hash: its fields and the previous row's hash, so an edited or removed row breaks the chain. */
function auditHash(prevHash: string, e: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const fields = [e.seq, e.atMs, e.actor, e.role, e.action, e.alertId, e.bedId, e.detail];
  return createHash('sha256')
    .update(`${prevHash}\n${JSON.stringify(fields)}`)
    .digest('hex');
}

interface AlertRow {
  readonly seq: number;
  readonly message: string;
  readonly received_ms: number;
  readonly ack_by: string | null;
  readonly ack_at_ms: number | null;
}

/**
 * The gateway's store (SQLite): every `ecg.alerts` message it has read, each alarm's latest state,
 * and the append-only, hash-chained acknowledgement audit log. A view of the topics that survives
 * the gateway's restart: a message read again after a restart (at-least-once) is stored once.
 */
export class GatewayStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL UNIQUE,
        alert_id TEXT NOT NULL,
        bed_id TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS alert_events_bed ON alert_events (bed_id, seq);
      CREATE TABLE IF NOT EXISTS alarms (
        alert_id TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        bed_id TEXT NOT NULL,
        type TEXT NOT NULL,
        priority TEXT NOT NULL,
        state TEXT NOT NULL,
        raised_ms INTEGER NOT NULL,
        ack_by TEXT,
        ack_at_ms INTEGER
      );
      CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_ms);
      CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        role TEXT,
        action TEXT NOT NULL,
        alert_id TEXT,
        bed_id TEXT,
        detail TEXT NOT NULL,
        source TEXT UNIQUE,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `);
    this.statements = {
      insertEvent: this.db.prepare(
        'INSERT OR IGNORE INTO alert_events (source, alert_id, bed_id, received_ms, message) VALUES (?, ?, ?, ?, ?)',
      ),
      upsertAlarm: this.db.prepare(`
        INSERT INTO alarms (alert_id, last_seq, bed_id, type, priority, state, raised_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (alert_id) DO UPDATE SET last_seq = excluded.last_seq, state = excluded.state`),
      acknowledged: this.db.prepare(
        'UPDATE alarms SET ack_by = ?, ack_at_ms = ? WHERE alert_id = ? AND ack_by IS NULL',
      ),
      since: this.db.prepare(`
        SELECT e.seq, e.message, e.received_ms, a.ack_by, a.ack_at_ms FROM alert_events e
        LEFT JOIN alarms a ON a.alert_id = e.alert_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?`),
      latest: this.db.prepare(`
        SELECT e.seq, e.message, e.received_ms, a.ack_by, a.ack_at_ms FROM alarms a
        JOIN alert_events e ON e.seq = a.last_seq WHERE a.alert_id = ?`),
      lastSeq: this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM alert_events'),
      lastAudit: this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
      insertAudit: this.db.prepare(`
        INSERT INTO audit (seq, at_ms, actor, role, action, alert_id, bed_id, detail, source, prev_hash, hash)
        VALUES (@seq, @atMs, @actor, @role, @action, @alertId, @bedId, @detail, @source, @prevHash, @hash)`),
      auditSource: this.db.prepare('SELECT 1 FROM audit WHERE source = ?'),
    };
  }

  /**
   * Stores an alert message read at `source` (topic/partition/offset); undefined if that message
   * was stored already (read again after a restart).
   */
  addAlert(alert: AlertMessage, source: string, receivedMs: number): AlertView | undefined {
    return this.db.transaction((): AlertView | undefined => {
      const inserted = this.statements.insertEvent.run(
        source,
        alert.id,
        alert.bedId,
        receivedMs,
        JSON.stringify(alert),
      );
      if (inserted.changes === 0) return undefined;
      const seq = Number(inserted.lastInsertRowid);
      const raisedMs = Math.round(alert.raisedAtMs ?? receivedMs);
      this.statements.upsertAlarm.run(alert.id, seq, alert.bedId, alert.type, alert.priority, alert.state, raisedMs);
      return this.viewOf(this.statements.latest.get(alert.id) as AlertRow);
    })();
  }

  /**
   * The name of the gateway this store belongs to, made at its first start: its consumer group, so
   * a restarted gateway goes on from the offsets it committed for what this store holds.
   */
  instanceId(): string {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'instance'").get() as { value: string } | undefined;
    if (row !== undefined) return row.value;
    const id = `gateway-${randomUUID().slice(0, 8)}`;
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('instance', ?)").run(id);
    return id;
  }

  /** Who acknowledged an alarm and when (the first acknowledgement counts). */
  setAcknowledgedBy(alertId: string, by: string, atMs: number): void {
    this.statements.acknowledged.run(by, atMs, alertId);
  }

  /** An alarm's latest message, by id. */
  alert(alertId: string): AlertView | undefined {
    const row = this.statements.latest.get(alertId) as AlertRow | undefined;
    return row === undefined ? undefined : this.viewOf(row);
  }

  /** The alert messages after `seq` (a client's resume token), oldest first, at most `limit`. */
  alertsSince(seq: number, limit = 10_000): AlertView[] {
    return (this.statements.since.all(seq, limit) as AlertRow[]).map((r) => this.viewOf(r));
  }

  /** The newest seq stored (0 before any): the resume token of a client that has everything. */
  lastSeq(): number {
    return (this.statements.lastSeq.get() as { seq: number }).seq;
  }

  /** Alarms (their latest state), newest first, filtered and paged. */
  alarms(query: AlertQuery): AlertView[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('a.bed_id = ?', query.bedId);
    add('a.type = ?', query.type);
    add('a.priority = ?', query.priority);
    add('a.state = ?', query.state);
    add('a.raised_ms >= ?', query.fromMs);
    add('a.raised_ms < ?', query.toMs);
    add('a.last_seq < ?', query.before);
    const sql = `SELECT e.seq, e.message, e.received_ms, a.ack_by, a.ack_at_ms FROM alarms a
      JOIN alert_events e ON e.seq = a.last_seq ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY a.last_seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, query.limit) as AlertRow[]).map((r) => this.viewOf(r));
  }

  /**
   * Appends an audit row, chained to the previous one. `source` (an `ecg.acks` position) makes it
   * idempotent: the same acknowledgement read again after a restart is recorded once.
   */
  audit(entry: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>, source?: string): AuditEntry | undefined {
    return this.db.transaction((): AuditEntry | undefined => {
      if (source !== undefined && this.statements.auditSource.get(source) !== undefined) return undefined;
      const last = this.statements.lastAudit.get() as { seq: number; hash: string } | undefined;
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS;
      const row = { ...entry, seq, prevHash, hash: auditHash(prevHash, { ...entry, seq }) };
      this.statements.insertAudit.run({ ...row, source: source ?? null });
      return row;
    })();
  }

  /** Audit rows, newest first, `limit` of them before `before` (a seq). */
  auditLog(limit: number, before?: number): AuditEntry[] {
    const rows = this.db
      .prepare(
        `SELECT seq, at_ms AS atMs, actor, role, action, alert_id AS alertId, bed_id AS bedId, detail,
           prev_hash AS prevHash, hash FROM audit ${before === undefined ? '' : 'WHERE seq < ?'} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...(before === undefined ? [] : [before]), limit);
    return rows as AuditEntry[];
  }

  /** Whether every audit row carries the hash of its fields and the row before it: the first broken row, if any. */
  verifyAudit(): { rows: number; intact: boolean; firstBroken?: { seq: number; why: string } } {
    const rows = this.db
      .prepare(
        `SELECT seq, at_ms AS atMs, actor, role, action, alert_id AS alertId, bed_id AS bedId, detail,
           prev_hash AS prevHash, hash FROM audit ORDER BY seq`,
      )
      .all() as AuditEntry[];
    let prev = GENESIS;
    let expectedSeq = 1;
    for (const row of rows) {
      const broken = (why: string) => ({ rows: rows.length, intact: false, firstBroken: { seq: row.seq, why } });
      if (row.seq !== expectedSeq) return broken(`row ${expectedSeq} is missing`);
      if (row.prevHash !== prev) return broken('its previous hash is not the hash of the row before it');
      if (auditHash(prev, row) !== row.hash) return broken('its fields do not give its hash: the row was edited');
      prev = row.hash;
      expectedSeq++;
    }
    return { rows: rows.length, intact: true };
  }

  close(): void {
    this.db.close();
  }

  private viewOf(row: AlertRow): AlertView {
    // stored after the decoder validated it
    const alert = JSON.parse(row.message) as AlertMessage;
    return {
      seq: row.seq,
      alert,
      receivedMs: row.received_ms,
      ...(row.ack_by === null || row.ack_at_ms === null
        ? {}
        : { acknowledgedBy: { by: row.ack_by, atMs: row.ack_at_ms } }),
    };
  }
}
