/**
 * The store's contract: every backend passes the same suite. Two store instances on one database
 * stand for two bot replicas; where they race, exactly one may win.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { operationId } from '../../core/values.js';
import { MIGRATIONS } from '../../store/migrations.js';
import { LeaseLostError } from '../../store/store-error.js';
import type { Store } from '../../store/store.js';
import { alice, backends, bob, type Backend } from './backends.js';

const uniq = (): string => randomBytes(4).toString('hex');
const plan = { runbook: 'node.drain', target: 'c01', steps: [{ id: 'disable-service', effect: 'change' }] };

describe.each(backends().map((b) => [b.name, b] as const))('store contract: %s', (_name, backend: Backend) => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  let a: Store; // replica A
  let b: Store; // replica B, same database

  beforeAll(async () => {
    await backend.setup();
    a = await backend.open(clock);
    b = await backend.open(clock);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await backend.teardown();
  });

  const newOp = (s: Store = a) =>
    s.createOperation({ runbook: 'node.drain', target: `c-${uniq()}`, plan, planHash: 'h1', requester: alice, channelId: 'C0000001' });

  it('migrates once and reports its schema version', async () => {
    expect(await a.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    expect(await b.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
  });

  it('creates and reads operations with generated ids, defaults and JSON round-trip', async () => {
    const op = await newOp();
    expect(operationId.safeParse(op.id).success).toBe(true);
    expect(op).toMatchObject({
      state: 'pending_approval',
      planHash: 'h1',
      requester: alice,
      owner: null,
      leaseUntil: null,
      version: 1,
      threadTs: null,
      detail: {},
    });
    expect(op.plan).toEqual(plan);
    expect(op.createdAt).toBe(clock.now());
    expect(await b.getOperation(op.id)).toEqual(op);
    expect(await a.getOperation('op-aaaaaaaaaaaa')).toBeUndefined();
  });

  it('updates operations only when the compare-and-set conditions hold', async () => {
    const op = await newOp();
    clock.advance(1000);
    const up = await a.updateOperation(
      op.id,
      { state: 'approved', threadTs: '1700000000.000100', detail: { step: 1 } },
      { version: op.version, state: 'pending_approval' },
    );
    expect(up).toMatchObject({ state: 'approved', threadTs: '1700000000.000100', detail: { step: 1 }, version: 2, updatedAt: clock.now() });
    // Stale version, wrong state, wrong owner: each refused, nothing written.
    expect(await b.updateOperation(op.id, { state: 'running' }, { version: op.version })).toBeNull();
    expect(await b.updateOperation(op.id, { state: 'running' }, { state: ['pending_approval', 'paused'] })).toBeNull();
    expect(await b.updateOperation(op.id, { state: 'running' }, { owner: 'someone' })).toBeNull();
    expect((await a.getOperation(op.id))?.state).toBe('approved');
    expect(await b.updateOperation(op.id, { state: 'running' }, { owner: null, version: 2 })).toMatchObject({ state: 'running', version: 3 });
  });

  it('lists operations by state, runbook, target and claimability, newest first', async () => {
    const o1 = await newOp();
    clock.advance(10);
    const o2 = await newOp();
    await a.updateOperation(o2.id, { state: 'paused' }, {});
    const paused = await b.listOperations({ states: ['paused'] });
    expect(paused.map((o) => o.id)).toContain(o2.id);
    expect(paused.map((o) => o.id)).not.toContain(o1.id);
    expect((await a.listOperations({ target: o1.target })).map((o) => o.id)).toEqual([o1.id]);
    const all = await a.listOperations({ runbook: 'node.drain', limit: 2 });
    expect(all[0]?.id).toBe(o2.id);
    expect(all).toHaveLength(2);
    expect(await a.listOperations({ states: [] })).toEqual([]);
  });

  it('leases: one owner at a time; a lapsed lease can be taken over; renew and release', async () => {
    const op = await newOp();
    const got = await a.claimOperation(op.id, 'replica-a', 30_000);
    expect(got).toMatchObject({ owner: 'replica-a', leaseUntil: clock.now() + 30_000 });
    expect(await b.claimOperation(op.id, 'replica-b', 30_000)).toBeNull();
    expect(await a.claimOperation(op.id, 'replica-a', 30_000)).not.toBeNull(); // re-claim by the holder
    expect((await b.listOperations({ target: op.target, claimable: true })).length).toBe(0);
    clock.advance(20_000);
    expect(await a.renewLease(op.id, 'replica-a', 30_000)).toBe(true);
    clock.advance(29_000);
    expect(await b.claimOperation(op.id, 'replica-b', 30_000)).toBeNull();
    clock.advance(1_001);
    expect((await b.listOperations({ target: op.target, claimable: true })).length).toBe(1);
    expect(await b.claimOperation(op.id, 'replica-b', 30_000, ['running'])).toBeNull(); // state filter
    expect(await b.claimOperation(op.id, 'replica-b', 30_000, ['pending_approval'])).toMatchObject({ owner: 'replica-b' });
    expect(await a.renewLease(op.id, 'replica-a', 30_000)).toBe(false); // A must stop
    expect(await a.releaseOperation(op.id, 'replica-a')).toBe(false);
    expect(await b.releaseOperation(op.id, 'replica-b')).toBe(true);
    expect(await a.getOperation(op.id)).toMatchObject({ owner: null, leaseUntil: null });
  });

  it('journals intent before and result after; intent without result is in doubt', async () => {
    const op = await newOp();
    const i1 = await a.recordIntent(op.id, 'disable-service', { equivalent: 'openstack compute service set --disable c01 nova-compute' });
    expect(i1).toMatchObject({ attempt: 1, status: null, resultAt: null, reconciled: false, intentAt: clock.now() });
    expect((await b.listInDoubt(op.id)).map((e) => e.seq)).toEqual([i1.seq]);
    expect((await b.listInDoubt()).map((e) => e.seq)).toContain(i1.seq);
    clock.advance(1500);
    expect(await a.recordResult(op.id, 'disable-service', 1, { status: 'ok', output: { exit: 0 }, saved: { wasEnabled: true } })).toBe(true);
    expect(await b.recordResult(op.id, 'disable-service', 1, { status: 'failed' })).toBe(false); // once only
    expect(await a.recordResult(op.id, 'disable-service', 2, { status: 'ok' })).toBe(false); // no such intent
    expect(await a.listInDoubt(op.id)).toEqual([]);
    const i2 = await a.recordIntent(op.id, 'disable-service', {});
    expect(i2.attempt).toBe(2);
    const m = await a.recordIntent(op.id, 'migrate:abc', { instance: 'abc' });
    expect(await a.recordResult(op.id, 'migrate:abc', 1, { status: 'skipped', reconciled: true })).toBe(true);
    const j = await b.listJournal(op.id);
    expect(j.map((e) => [e.stepId, e.attempt, e.status])).toEqual([
      ['disable-service', 1, 'ok'],
      ['disable-service', 2, null],
      ['migrate:abc', 1, 'skipped'],
    ]);
    expect(j[0]).toMatchObject({ output: { exit: 0 }, saved: { wasEnabled: true }, resultAt: i1.intentAt + 1500 });
    expect(j[2]).toMatchObject({ seq: m.seq, reconciled: true, saved: null });
  });

  it('fenced intents: written only while the owner holds the lease', async () => {
    const op = await newOp();
    await expect(a.recordIntent(op.id, 's1', {}, { owner: 'replica-a' })).rejects.toBeInstanceOf(LeaseLostError); // nobody holds it
    await a.claimOperation(op.id, 'replica-a', 10_000);
    expect((await a.recordIntent(op.id, 's1', {}, { owner: 'replica-a' })).attempt).toBe(1);
    await expect(b.recordIntent(op.id, 's2', {}, { owner: 'replica-b' })).rejects.toMatchObject({ code: 'STORE_FAILED', details: { reason: 'lease-lost' } });
    clock.advance(10_000);
    await expect(a.recordIntent(op.id, 's1', {}, { owner: 'replica-a' })).rejects.toBeInstanceOf(LeaseLostError); // lapsed
    await b.claimOperation(op.id, 'replica-b', 10_000);
    expect((await b.recordIntent(op.id, 's1', {}, { owner: 'replica-b' })).attempt).toBe(2);
    expect((await a.listJournal(op.id)).map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('approvals: create, then every decision is a compare-and-set on version and state', async () => {
    const op = await newOp();
    const ap = await a.createApproval({
      operationId: op.id,
      planHash: 'h1',
      kind: 'change',
      policy: { required: 1 },
      required: 1,
      requester: alice,
      expiresAt: clock.now() + 1_800_000,
    });
    expect(ap).toMatchObject({ state: 'pending', purpose: 'start', approvers: [], decidedBy: null, consumedAt: null, version: 1 });
    expect(ap.id).toMatch(/^ap-[a-z2-7]{12}$/);
    const vote = { userId: bob.userId, teamId: bob.teamId, at: clock.now() };
    const won = await a.updateApproval(
      ap.id,
      { state: 'approved', approvers: [vote], decidedAt: clock.now(), startBy: clock.now() + 600_000 },
      { version: 1, state: 'pending' },
    );
    expect(won).toMatchObject({ state: 'approved', approvers: [vote], version: 2 });
    expect(await b.updateApproval(ap.id, { state: 'rejected', decidedBy: bob }, { version: 1, state: 'pending' })).toBeNull();
    expect(await b.updateApproval(ap.id, { state: 'rejected' }, { version: 2, state: 'pending' })).toBeNull();
    expect(await b.updateApproval(ap.id, { consumedAt: clock.now() }, { version: 2, state: 'approved' })).toMatchObject({
      consumedAt: clock.now(),
      version: 3,
    });
    expect((await b.listApprovals({ operationId: op.id })).map((x) => x.id)).toEqual([ap.id]);
    expect(await b.listApprovals({ operationId: op.id, states: ['pending'] })).toEqual([]);
  });

  it('lists pending approvals past their expiry by the store clock', async () => {
    const op = await newOp();
    const ap = await a.createApproval({
      operationId: op.id,
      planHash: 'h1',
      kind: 'change',
      policy: {},
      required: 1,
      requester: alice,
      expiresAt: clock.now() + 60_000,
    });
    expect((await a.listApprovals({ states: ['pending'], expiresBefore: clock.now() })).map((x) => x.id)).not.toContain(ap.id);
    clock.advance(60_000);
    expect((await a.listApprovals({ states: ['pending'], expiresBefore: clock.now() })).map((x) => x.id)).toContain(ap.id);
  });

  it('locks: one operation per key, re-entrant, refusal names the holder, survive a restart', async () => {
    const key = `host:c-${uniq()}`;
    const [o1, o2] = [await newOp(), await newOp()];
    const l1 = await a.acquireLock(key, o1.id, alice);
    expect(l1).toMatchObject({ acquired: true, lock: { key, operationId: o1.id, requester: alice } });
    expect(await a.acquireLock(key, o1.id, alice)).toMatchObject({ acquired: true });
    expect(await b.acquireLock(key, o2.id, bob)).toEqual({ acquired: false, heldBy: { key, operationId: o1.id, requester: alice, acquiredAt: clock.now() } });
    // A restart: a fresh instance on the same database still sees it.
    const c = await backend.open(clock);
    try {
      expect(await c.getLock(key)).toMatchObject({ operationId: o1.id });
      expect((await c.listLocks()).map((l) => l.key)).toContain(key);
    } finally {
      await c.close();
    }
    expect(await b.releaseLock(key, o2.id)).toBe(false);
    expect(await a.releaseLock(key, o1.id)).toBe(true);
    expect(await b.acquireLock(key, o2.id, bob)).toMatchObject({ acquired: true });
    await b.acquireLock(`${key}-2`, o2.id, bob);
    expect(await a.releaseLocksOf(o2.id)).toBe(2);
    expect(await a.getLock(key)).toBeUndefined();
  });

  it('audit: append-only entries listed per operation in order', async () => {
    const op = await newOp();
    const e1 = await a.appendAudit({ actor: 'UALICE1@T000001', kind: 'operation.requested', operationId: op.id, payload: { raw: '/node drain c01' } });
    const e2 = await b.appendAudit({
      actor: 'bot:replica-b',
      kind: 'step.intent',
      operationId: op.id,
      payload: { step: 'disable-service', unicode: 'Grüße ✓' },
    });
    await a.appendAudit({ actor: 'bot:replica-a', kind: 'bot.started' });
    expect(e2.seq).toBeGreaterThan(e1.seq);
    const list = await a.listAudit({ operationId: op.id });
    expect(list).toEqual([e1, e2]);
    expect(await a.listAudit({ operationId: op.id, afterSeq: e1.seq })).toEqual([e2]);
    expect((await a.listAudit({ afterSeq: e2.seq })).map((e) => e.kind)).toContain('bot.started');
    expect('updateAudit' in a || 'deleteAudit' in a).toBe(false);
  });

  it('schedules: create, list due by run time, compare-and-set', async () => {
    const runAt = clock.now() + 3_600_000;
    const s = await a.createSchedule({ runbook: 'node.drain', args: { host: 'c01' }, runAt, requester: alice, channelId: 'C0000001' });
    expect(s).toMatchObject({ state: 'scheduled', args: { host: 'c01' }, operationId: null, version: 1 });
    expect((await b.listSchedules({ states: ['scheduled'], dueBefore: clock.now() })).map((x) => x.id)).not.toContain(s.id);
    expect((await b.listSchedules({ states: ['scheduled'], dueBefore: runAt })).map((x) => x.id)).toContain(s.id);
    expect(await a.updateSchedule(s.id, { state: 'running' }, { state: 'scheduled', version: 1 })).toMatchObject({ state: 'running', version: 2 });
    expect(await b.updateSchedule(s.id, { state: 'running' }, { state: 'scheduled' })).toBeNull();
    expect(await a.getSchedule(s.id)).toMatchObject({ state: 'running' });
  });

  it('de-duplicates deliveries: true once per key until the TTL passes; keys are case-sensitive', async () => {
    const k = `trigger-${uniq()}`;
    expect(await a.firstSeen(k, 60_000)).toBe(true);
    expect(await b.firstSeen(k, 60_000)).toBe(false);
    expect(await a.firstSeen(k.toUpperCase(), 60_000)).toBe(true);
    clock.advance(59_999);
    expect(await a.firstSeen(k, 60_000)).toBe(false);
    clock.advance(1);
    expect(await b.firstSeen(k, 60_000)).toBe(true);
    expect(await a.firstSeen(k, 60_000)).toBe(false);
    clock.advance(60_000);
    expect(await a.purgeSeen()).toBeGreaterThanOrEqual(2);
    expect(await a.firstSeen(k, 60_000)).toBe(true);
  });

  describe('two replicas racing', () => {
    it('claim the same operation: exactly one wins', async () => {
      const op = await newOp();
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claimOperation(op.id, `replica-${i}`, 30_000)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect((await a.getOperation(op.id))?.owner).toBe(winners[0]?.owner);
    });

    it('decide the same approval version: exactly one wins', async () => {
      const op = await newOp();
      const ap = await a.createApproval({
        operationId: op.id,
        planHash: 'h1',
        kind: 'change',
        policy: {},
        required: 1,
        requester: alice,
        expiresAt: clock.now() + 60_000,
      });
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (i % 2 ? a : b).updateApproval(
            ap.id,
            { state: i % 3 ? 'approved' : 'rejected', decidedBy: { userId: `U${i}XX`, teamId: 'T1' } },
            { version: 1, state: 'pending' },
          ),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect((await b.getApproval(ap.id))?.version).toBe(2);
    });

    it('take the same lock for different operations: exactly one holds it', async () => {
      const key = `host:c-${uniq()}`;
      const ops = await Promise.all(Array.from({ length: 20 }, () => newOp()));
      const results = await Promise.all(ops.map((o, i) => (i % 2 ? a : b).acquireLock(key, o.id, alice)));
      const won = results.filter((r) => r.acquired);
      expect(won).toHaveLength(1);
      const holder = won[0]!.acquired ? won[0]!.lock.operationId : '';
      for (const r of results) if (!r.acquired) expect(r.heldBy.operationId).toBe(holder);
    });

    it('see the same delivery: exactly one first', async () => {
      const k = `event-${uniq()}`;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).firstSeen(k, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('journal intents of the same step: distinct attempts, none lost', async () => {
      const op = await newOp();
      const entries = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).recordIntent(op.id, 'step', { i })));
      expect(entries.map((e) => e.attempt).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  describe('incidents (the compute watcher)', () => {
    const newIncident = (host: string, downSince = '2026-11-25T11:59:00.000000') =>
      ({ cloud: 'lab', host, binary: 'nova-compute', downSince, channelId: 'C0OPS0001' }) as const;

    it('records one incident per downtime and at most one active per host', async () => {
      const host = `c-${uniq()}`;
      const i = (await a.createIncident(newIncident(host)))!;
      expect(i).toMatchObject({ state: 'pending', host, cloud: 'lab', cardTs: null, owner: null, version: 1, firstSeenAt: clock.now(), detail: {} });
      expect(i.id).toMatch(/^in-[a-z2-7]{12}$/);
      expect(await b.getIncident(i.id)).toEqual(i);
      // the same downtime again, and another down-since while the first is active: refused
      expect(await b.createIncident(newIncident(host))).toBeNull();
      expect(await b.createIncident(newIncident(host, '2026-11-25T11:59:30.000000'))).toBeNull();
      expect((await a.listIncidents({ cloud: 'lab', host })).map((x) => x.id)).toEqual([i.id]);
      // resolved: the host may have its next incident, but never the same downtime again
      expect(await a.updateIncident(i.id, { state: 'resolved', resolvedAt: clock.now() }, { state: 'open' })).toBeNull();
      expect((await a.updateIncident(i.id, { state: 'cleared', resolvedAt: clock.now() }, { state: 'pending', version: 1 }))?.state).toBe('cleared');
      expect(await b.createIncident(newIncident(host))).toBeNull();
      const next = await b.createIncident(newIncident(host, '2026-11-25T12:30:00.000000'));
      expect(next?.state).toBe('pending');
      expect((await a.listIncidents({ host, states: ['pending'] })).map((x) => x.id)).toEqual([next!.id]);
    });

    it('lets one replica claim a post, and another take it over only after the lease', async () => {
      const i = (await a.createIncident(newIncident(`c-${uniq()}`)))!;
      const claim = (s: Store, owner: string, v: number) =>
        s.updateIncident(
          i.id,
          { state: 'posting', owner, leaseUntil: clock.now() + 60_000 },
          { state: ['pending', 'posting'], claimableBy: owner, version: v },
        );
      const first = await claim(a, 'replica-a', 1);
      expect(first).toMatchObject({ state: 'posting', owner: 'replica-a', version: 2 });
      expect(await claim(b, 'replica-b', 2)).toBeNull(); // lease still running
      clock.advance(60_001);
      expect(await claim(b, 'replica-b', 2)).toMatchObject({ owner: 'replica-b', version: 3 });
      expect(await a.updateIncident(i.id, { state: 'open', cardTs: '1.2' }, { version: 2 })).toBeNull(); // the old owner's write loses
    });
  });

  describe('two replicas racing on incidents', () => {
    it('open the same downtime: exactly one row', async () => {
      const host = `c-${uniq()}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).createIncident({ cloud: 'lab', host, binary: 'nova-compute', downSince: `2026-11-25T11:5${i % 3}:00`, channelId: 'C1' }),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await a.listIncidents({ host })).toHaveLength(1);
    });

    it('claim the same pending incident: exactly one wins', async () => {
      const i = (await a.createIncident({ cloud: 'lab', host: `c-${uniq()}`, binary: 'nova-compute', downSince: 'x', channelId: 'C1' }))!;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          (n % 2 ? a : b).updateIncident(i.id, { state: 'posting', owner: `r${n}`, leaseUntil: clock.now() + 1000 }, { state: 'pending', version: 1 }),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });
  });
});
