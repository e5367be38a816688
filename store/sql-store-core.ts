/** Operations, step journal and approvals of the SQL store (see sql-base.ts for the CAS primitive). */
import { newApprovalId, newOperationId } from './ids.js';
import { approvalOf, journalOf, limitOf, operationOf, requesterParams, toJson, type Row } from './rows.js';
import { SqlBase, stateCond, type Cond } from './sql-base.js';
import type { SqlValue } from './sql-driver.js';
import { LeaseLostError, StoreError } from './store-error.js';
import type * as S from './store.js';

export abstract class SqlStoreCore extends SqlBase {
  // ───────────── operations ─────────────

  createOperation(op: S.NewOperation): Promise<S.OperationRecord> {
    const now = this.clock.now();
    const id = op.id ?? newOperationId();
    return this.insertAndRead(
      `create operation ${id}`,
      'operations',
      [
        'id',
        'runbook',
        'target',
        'plan',
        'plan_hash',
        'state',
        'requester_user',
        'requester_team',
        'requester_name',
        'channel_id',
        'thread_ts',
        'card_ts',
        'detail',
        'created_at',
        'updated_at',
        'owner',
        'lease_until',
        'version',
      ],
      [
        id,
        op.runbook,
        op.target,
        toJson(op.plan),
        op.planHash,
        op.state ?? 'pending_approval',
        ...requesterParams(op.requester),
        op.channelId,
        op.threadTs ?? null,
        op.cardTs ?? null,
        toJson(op.detail ?? {}),
        now,
        now,
        null,
        null,
        1,
      ],
      id,
      operationOf,
    );
  }

  getOperation(id: string): Promise<S.OperationRecord | undefined> {
    return this.retry('get operation', () => this.one(this.db, 'SELECT * FROM operations WHERE id = ?', [id], operationOf));
  }

  listOperations(f: S.OperationFilter = {}): Promise<S.OperationRecord[]> {
    const conds: Cond[] = [...stateCond('state', f.states)];
    if (f.runbook !== undefined) conds.push(['runbook = ?', [f.runbook]]);
    if (f.target !== undefined) conds.push(['target = ?', [f.target]]);
    if (f.claimable) conds.push(['(owner IS NULL OR lease_until IS NULL OR lease_until <= ?)', [this.clock.now()]]);
    const where = conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM operations ${where} ORDER BY created_at DESC, id DESC LIMIT ${limitOf(f.limit, 50)}`;
    return this.retry('list operations', async () =>
      (
        await this.db.all<Row>(
          sql,
          conds.flatMap(([, p]) => p),
        )
      ).map(operationOf),
    );
  }

  updateOperation(id: string, patch: S.OperationPatch, expect: S.OperationExpect): Promise<S.OperationRecord | null> {
    const set: [string, SqlValue][] = [['updated_at', this.clock.now()]];
    if (patch.state !== undefined) set.push(['state', patch.state]);
    if (patch.plan !== undefined) set.push(['plan', toJson(patch.plan)]);
    if (patch.planHash !== undefined) set.push(['plan_hash', patch.planHash]);
    if (patch.threadTs !== undefined) set.push(['thread_ts', patch.threadTs]);
    if (patch.cardTs !== undefined) set.push(['card_ts', patch.cardTs]);
    if (patch.detail !== undefined) set.push(['detail', toJson(patch.detail)]);
    const conds: Cond[] = [...stateCond('state', expect.state)];
    if (expect.version !== undefined) conds.push(['version = ?', [expect.version]]);
    if (expect.owner === null) conds.push(['owner IS NULL', []]);
    else if (expect.owner !== undefined) conds.push(['owner = ?', [expect.owner]]);
    return this.cas('operations', id, set, conds, operationOf);
  }

  claimOperation(id: string, owner: string, leaseMs: number, states?: readonly S.OperationState[]): Promise<S.OperationRecord | null> {
    const now = this.clock.now();
    const conds: Cond[] = [['(owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until <= ?)', [owner, now]], ...stateCond('state', states)];
    return this.cas(
      'operations',
      id,
      [
        ['owner', owner],
        ['lease_until', now + leaseMs],
        ['updated_at', now],
      ],
      conds,
      operationOf,
    );
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const r = await this.cas('operations', id, [['lease_until', now + leaseMs]], [['owner = ?', [owner]]], operationOf, false);
    return r !== null;
  }

  async releaseOperation(id: string, owner: string): Promise<boolean> {
    const r = await this.cas(
      'operations',
      id,
      [
        ['owner', null],
        ['lease_until', null],
        ['updated_at', this.clock.now()],
      ],
      [['owner = ?', [owner]]],
      operationOf,
    );
    return r !== null;
  }

  // ───────────── step journal ─────────────

  recordIntent(operationId: string, stepId: string, intent: S.JsonObject, fence?: { owner: string }): Promise<S.JournalEntry> {
    // The attempt number is computed inside the INSERT; two writers racing for the same step collide
    // on the unique key and the loser tries again with the next number. The fence is checked in the
    // same statement, so a lease taken over by another replica stops the write.
    const fenceSql = fence ? ' WHERE EXISTS (SELECT 1 FROM operations o WHERE o.id = ? AND o.owner = ? AND o.lease_until > ?)' : '';
    const sql = `INSERT INTO journal (operation_id, step_id, attempt, intent, intent_at, reconciled)
      SELECT ?, ?, n.next_attempt, ?, ?, 0
      FROM (SELECT COALESCE(MAX(attempt), 0) + 1 AS next_attempt FROM journal WHERE operation_id = ? AND step_id = ?) n${fenceSql}`;
    return this.retry(`record intent ${operationId}/${stepId}`, async () => {
      for (let i = 0; ; i++) {
        const now = this.clock.now();
        const params = [operationId, stepId, toJson(intent), now, operationId, stepId, ...(fence ? [operationId, fence.owner, now] : [])];
        try {
          const r = await this.db.run(sql, params);
          if (r.changes === 0) throw new LeaseLostError(operationId, fence?.owner ?? '', stepId);
          const e = await this.one(this.db, 'SELECT * FROM journal WHERE seq = ?', [r.lastId], journalOf);
          if (!e) throw new StoreError(`store: journal entry ${r.lastId} vanished after insert`);
          return e;
        } catch (err) {
          if (!this.db.isDuplicateKey(err) || i >= 8) throw err;
        }
      }
    });
  }

  async recordResult(operationId: string, stepId: string, attempt: number, result: S.StepResult): Promise<boolean> {
    const r = await this.retry(`record result ${operationId}/${stepId}#${attempt}`, () =>
      this.db.run(
        `UPDATE journal SET status = ?, output = ?, saved = ?, reconciled = ?, result_at = ?
         WHERE operation_id = ? AND step_id = ? AND attempt = ? AND status IS NULL`,
        [result.status, toJson(result.output ?? null), toJson(result.saved ?? null), result.reconciled ? 1 : 0, this.clock.now(), operationId, stepId, attempt],
      ),
    );
    return r.changes === 1;
  }

  listJournal(operationId: string): Promise<S.JournalEntry[]> {
    return this.retry('list journal', async () =>
      (await this.db.all<Row>('SELECT * FROM journal WHERE operation_id = ? ORDER BY seq', [operationId])).map(journalOf),
    );
  }

  listInDoubt(operationId?: string): Promise<S.JournalEntry[]> {
    const [where, params] = operationId === undefined ? ['', []] : ['AND operation_id = ?', [operationId]];
    return this.retry('list in-doubt steps', async () =>
      (await this.db.all<Row>(`SELECT * FROM journal WHERE status IS NULL ${where} ORDER BY seq`, params)).map(journalOf),
    );
  }

  // ───────────── approvals ─────────────

  createApproval(a: S.NewApproval): Promise<S.ApprovalRecord> {
    const id = a.id ?? newApprovalId();
    return this.insertAndRead(
      `create approval ${id}`,
      'approvals',
      [
        'id',
        'operation_id',
        'plan_hash',
        'kind',
        'purpose',
        'policy',
        'state',
        'required',
        'requester_user',
        'requester_team',
        'requester_name',
        'approvers',
        'decided_by',
        'reason',
        'created_at',
        'expires_at',
        'decided_at',
        'start_by',
        'consumed_at',
        'version',
      ],
      [
        id,
        a.operationId,
        a.planHash,
        a.kind,
        a.purpose ?? 'start',
        toJson(a.policy),
        a.state ?? 'pending',
        a.required,
        ...requesterParams(a.requester),
        toJson(a.approvers ?? []),
        null,
        a.reason ?? null,
        this.clock.now(),
        a.expiresAt,
        a.decidedAt ?? null,
        a.startBy ?? null,
        null,
        1,
      ],
      id,
      approvalOf,
    );
  }

  getApproval(id: string): Promise<S.ApprovalRecord | undefined> {
    return this.retry('get approval', () => this.one(this.db, 'SELECT * FROM approvals WHERE id = ?', [id], approvalOf));
  }

  listApprovals(f: S.ApprovalFilter = {}): Promise<S.ApprovalRecord[]> {
    const conds: Cond[] = [...stateCond('state', f.states)];
    if (f.operationId !== undefined) conds.push(['operation_id = ?', [f.operationId]]);
    if (f.expiresBefore !== undefined) conds.push(['expires_at <= ?', [f.expiresBefore]]);
    if (f.startByBefore !== undefined) conds.push(['start_by <= ?', [f.startByBefore]]);
    const where = conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '';
    const sql = `SELECT * FROM approvals ${where} ORDER BY created_at, id LIMIT ${limitOf(f.limit, 500)}`;
    return this.retry('list approvals', async () =>
      (
        await this.db.all<Row>(
          sql,
          conds.flatMap(([, p]) => p),
        )
      ).map(approvalOf),
    );
  }

  updateApproval(id: string, patch: S.ApprovalPatch, expect: S.ApprovalExpect): Promise<S.ApprovalRecord | null> {
    const set: [string, SqlValue][] = [];
    if (patch.state !== undefined) set.push(['state', patch.state]);
    if (patch.approvers !== undefined) set.push(['approvers', toJson(patch.approvers)]);
    if (patch.decidedBy !== undefined) set.push(['decided_by', patch.decidedBy === null ? null : toJson(patch.decidedBy)]);
    if (patch.reason !== undefined) set.push(['reason', patch.reason]);
    if (patch.decidedAt !== undefined) set.push(['decided_at', patch.decidedAt]);
    if (patch.startBy !== undefined) set.push(['start_by', patch.startBy]);
    if (patch.consumedAt !== undefined) set.push(['consumed_at', patch.consumedAt]);
    return this.cas('approvals', id, set, [['version = ?', [expect.version]], ...stateCond('state', expect.state)], approvalOf);
  }
}
