/**
 * The one Store implementation, over a SqlDriver (SQLite or MySQL). The statements are shared, so the
 * contract suite exercises the same SQL on both backends. This file: locks, audit, schedules,
 * incidents, delivery de-duplication; operations, journal and approvals are in sql-store-core.ts.
 */
import { createHash } from 'node:crypto';
import type { Requester } from '../core/types.js';
import { newIncidentId, newScheduleId } from './ids.js';
import { auditOf, incidentOf, limitOf, lockOf, requesterParams, scheduleOf, toJson, type Row } from './rows.js';
import { stateCond, type Cond } from './sql-base.js';
import type { SqlValue } from './sql-driver.js';
import { SqlStoreCore } from './sql-store-core.js';
import { StoreError } from './store-error.js';
import * as S from './store.js';

export class SqlStore extends SqlStoreCore implements S.Store {
  // ───────────── locks ─────────────

  acquireLock(key: string, operationId: string, requester: Requester): Promise<S.LockResult> {
    return this.retry(`acquire lock ${key}`, async () => {
      // Insert wins; a duplicate key means someone holds it. If the holder released it between our
      // insert and our read, try again.
      for (let i = 0; i < 10; i++) {
        try {
          const now = this.clock.now();
          await this.db.run(
            'INSERT INTO locks (lock_key, operation_id, requester_user, requester_team, requester_name, acquired_at) VALUES (?, ?, ?, ?, ?, ?)',
            [key, operationId, ...requesterParams(requester), now],
          );
          return { acquired: true, lock: { key, operationId, requester, acquiredAt: now } };
        } catch (e) {
          if (!this.db.isDuplicateKey(e)) throw e;
        }
        const held = await this.one(this.db, 'SELECT * FROM locks WHERE lock_key = ?', [key], lockOf);
        if (!held) continue;
        return held.operationId === operationId ? { acquired: true, lock: held } : { acquired: false, heldBy: held };
      }
      throw new StoreError(`store: lock ${key} kept changing hands; gave up`, { details: { key } });
    });
  }

  async releaseLock(key: string, operationId: string): Promise<boolean> {
    const r = await this.retry(`release lock ${key}`, () => this.db.run('DELETE FROM locks WHERE lock_key = ? AND operation_id = ?', [key, operationId]));
    return r.changes === 1;
  }

  async releaseLocksOf(operationId: string): Promise<number> {
    const r = await this.retry(`release locks of ${operationId}`, () => this.db.run('DELETE FROM locks WHERE operation_id = ?', [operationId]));
    return r.changes;
  }

  getLock(key: string): Promise<S.LockRecord | undefined> {
    return this.retry('get lock', () => this.one(this.db, 'SELECT * FROM locks WHERE lock_key = ?', [key], lockOf));
  }

  listLocks(): Promise<S.LockRecord[]> {
    return this.retry('list locks', async () => (await this.db.all<Row>('SELECT * FROM locks ORDER BY acquired_at, lock_key')).map(lockOf));
  }

  // ───────────── audit ─────────────

  appendAudit(entry: S.NewAudit): Promise<S.AuditRecord> {
    return this.retry(`append audit ${entry.kind}`, async () => {
      const at = this.clock.now();
      const payload = entry.payload ?? {};
      const r = await this.db.run('INSERT INTO audit (at, actor, kind, operation_id, payload) VALUES (?, ?, ?, ?, ?)', [
        at,
        entry.actor,
        entry.kind,
        entry.operationId ?? null,
        toJson(payload),
      ]);
      return { seq: r.lastId, at, actor: entry.actor, kind: entry.kind, operationId: entry.operationId ?? null, payload };
    });
  }

  listAudit(f: S.AuditFilter = {}): Promise<S.AuditRecord[]> {
    const conds: Cond[] = [];
    if (f.operationId !== undefined) conds.push(['operation_id = ?', [f.operationId]]);
    if (f.afterSeq !== undefined) conds.push(['seq > ?', [f.afterSeq]]);
    const where = conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM audit ${where} ORDER BY seq LIMIT ${limitOf(f.limit, 500)}`;
    return this.retry('list audit', async () =>
      (
        await this.db.all<Row>(
          sql,
          conds.flatMap(([, p]) => p),
        )
      ).map(auditOf),
    );
  }

  // ───────────── schedules ─────────────

  createSchedule(s: S.NewSchedule): Promise<S.ScheduleRecord> {
    const id = s.id ?? newScheduleId();
    const now = this.clock.now();
    return this.insertAndRead(
      `create schedule ${id}`,
      'schedules',
      [
        'id',
        'runbook',
        'args',
        'run_at',
        'state',
        'requester_user',
        'requester_team',
        'requester_name',
        'channel_id',
        'operation_id',
        'created_at',
        'updated_at',
        'version',
      ],
      [id, s.runbook, toJson(s.args), s.runAt, 'scheduled', ...requesterParams(s.requester), s.channelId, null, now, now, 1],
      id,
      scheduleOf,
    );
  }

  getSchedule(id: string): Promise<S.ScheduleRecord | undefined> {
    return this.retry('get schedule', () => this.one(this.db, 'SELECT * FROM schedules WHERE id = ?', [id], scheduleOf));
  }

  listSchedules(f: S.ScheduleFilter = {}): Promise<S.ScheduleRecord[]> {
    const conds: Cond[] = [...stateCond('state', f.states)];
    if (f.dueBefore !== undefined) conds.push(['run_at <= ?', [f.dueBefore]]);
    const where = conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM schedules ${where} ORDER BY run_at, id LIMIT ${limitOf(f.limit, 500)}`;
    return this.retry('list schedules', async () =>
      (
        await this.db.all<Row>(
          sql,
          conds.flatMap(([, p]) => p),
        )
      ).map(scheduleOf),
    );
  }

  updateSchedule(
    id: string,
    patch: S.SchedulePatch,
    expect: { version?: number; state?: S.ScheduleState | readonly S.ScheduleState[] },
  ): Promise<S.ScheduleRecord | null> {
    const set: [string, SqlValue][] = [['updated_at', this.clock.now()]];
    if (patch.state !== undefined) set.push(['state', patch.state]);
    if (patch.runAt !== undefined) set.push(['run_at', patch.runAt]);
    if (patch.operationId !== undefined) set.push(['operation_id', patch.operationId]);
    const conds: Cond[] = [...stateCond('state', expect.state)];
    if (expect.version !== undefined) conds.push(['version = ?', [expect.version]]);
    return this.cas('schedules', id, set, conds, scheduleOf);
  }

  // ───────────── incidents ─────────────

  createIncident(i: S.NewIncident): Promise<S.IncidentRecord | null> {
    const id = i.id ?? newIncidentId();
    const now = this.clock.now();
    const cols = [
      'id',
      'cloud',
      'host',
      'svc_binary',
      'down_since',
      'state',
      'first_seen_at',
      'channel_id',
      'card_ts',
      'owner',
      'lease_until',
      'detail',
      'created_at',
      'updated_at',
      'resolved_at',
      'version',
      'active_key',
    ];
    const values = [
      id,
      i.cloud,
      i.host,
      i.binary,
      i.downSince,
      'pending',
      now,
      i.channelId,
      null,
      null,
      null,
      toJson(i.detail ?? {}),
      now,
      now,
      null,
      1,
      activeKey(i.cloud, i.host),
    ];
    return this.retry(`create incident ${i.cloud}/${i.host}`, async () => {
      try {
        await this.db.run(`INSERT INTO incidents (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, values);
      } catch (e) {
        if (this.db.isDuplicateKey(e)) return null; // this downtime, or an active incident of the host, is recorded already
        throw e;
      }
      return (await this.one(this.db, 'SELECT * FROM incidents WHERE id = ?', [id], incidentOf)) ?? null;
    });
  }

  getIncident(id: string): Promise<S.IncidentRecord | undefined> {
    return this.retry('get incident', () => this.one(this.db, 'SELECT * FROM incidents WHERE id = ?', [id], incidentOf));
  }

  listIncidents(f: S.IncidentFilter = {}): Promise<S.IncidentRecord[]> {
    const conds: Cond[] = [...stateCond('state', f.states)];
    if (f.cloud !== undefined) conds.push(['cloud = ?', [f.cloud]]);
    if (f.host !== undefined) conds.push(['host = ?', [f.host]]);
    const where = conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM incidents ${where} ORDER BY created_at DESC, id DESC LIMIT ${limitOf(f.limit, 100)}`;
    return this.retry('list incidents', async () =>
      (
        await this.db.all<Row>(
          sql,
          conds.flatMap(([, p]) => p),
        )
      ).map(incidentOf),
    );
  }

  updateIncident(id: string, patch: S.IncidentPatch, expect: S.IncidentExpect): Promise<S.IncidentRecord | null> {
    const now = this.clock.now();
    const set: [string, SqlValue][] = [['updated_at', now]];
    if (patch.state !== undefined) set.push(['state', patch.state]);
    if (patch.cardTs !== undefined) set.push(['card_ts', patch.cardTs]);
    if (patch.owner !== undefined) set.push(['owner', patch.owner]);
    if (patch.leaseUntil !== undefined) set.push(['lease_until', patch.leaseUntil]);
    if (patch.detail !== undefined) set.push(['detail', toJson(patch.detail)]);
    if (patch.resolvedAt !== undefined) set.push(['resolved_at', patch.resolvedAt]);
    // Leaving the active states frees the host for its next incident.
    if (patch.state !== undefined && !S.ACTIVE_INCIDENT_STATES.includes(patch.state)) set.push(['active_key', null]);
    const conds: Cond[] = [...stateCond('state', expect.state)];
    if (expect.version !== undefined) conds.push(['version = ?', [expect.version]]);
    if (expect.claimableBy !== undefined) conds.push(['(owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until <= ?)', [expect.claimableBy, now]]);
    return this.cas('incidents', id, set, conds, incidentOf);
  }

  // ───────────── delivery de-duplication ─────────────

  private inserts = 0;

  firstSeen(key: string, ttlMs: number): Promise<boolean> {
    return this.retry('de-duplicate delivery', async () => {
      const now = this.clock.now();
      try {
        await this.db.run('INSERT INTO deliveries (dkey, expires_at) VALUES (?, ?)', [key, now + ttlMs]);
        // Keys only matter for their TTL: sweep the old ones now and then so the table stays small.
        if (++this.inserts % 1000 === 0) await this.db.run('DELETE FROM deliveries WHERE expires_at <= ?', [now]);
        return true;
      } catch (e) {
        if (!this.db.isDuplicateKey(e)) throw e;
      }
      // Seen before: only a key whose TTL has passed may be taken again, by exactly one caller.
      const r = await this.db.run('UPDATE deliveries SET expires_at = ? WHERE dkey = ? AND expires_at <= ?', [now + ttlMs, key, now]);
      return r.changes === 1;
    });
  }

  async purgeSeen(): Promise<number> {
    const r = await this.retry('purge deliveries', () => this.db.run('DELETE FROM deliveries WHERE expires_at <= ?', [this.clock.now()]));
    return r.changes;
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.retry('read schema version', () => this.db.all<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations'));
    return Number(rows[0]?.v ?? 0);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The value of the unique `active_key` column: one active incident per cloud and host (fixed length). */
function activeKey(cloud: string, host: string): string {
  return createHash('sha256').update(`${cloud}\0${host}`).digest('hex');
}
