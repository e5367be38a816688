// The SQL adapter against the running MariaDB with the real Zed schemas in throwaway databases:
// the runbook's queries, the evacuate-by-SQL write, dry-run, row-count assertion, undo, preflight.
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDbAdapter, DbRowCountError, DbUndoConflictError, DbPreflightError, MemoryJournal, type DbAdapter } from '../../../adapters/db.js';
import { loadDbConfig } from '../../../adapters/db/config.js';
import { DbPools } from '../../../adapters/db/pools.js';
import { createZedDatabases, type ZedDatabases } from '../../helpers/zed-schema.js';
import { ZedRows } from './zed-rows.js';

let z: ZedDatabases;
let db: DbAdapter;
let rows: ZedRows;

beforeAll(async () => {
  z = await createZedDatabases();
  db = createDbAdapter(z.config());
  rows = new ZedRows(z);
});
afterAll(async () => {
  await db?.close();
  await z?.drop();
});
beforeEach(async () => {
  await rows.clear();
});

/** Two instances with ports on c01 (one with two ports), one elsewhere, one soft-deleted on c01. */
async function arrange() {
  await rows.computeNode('c02');
  const a = await rows.instance('c01');
  const b = await rows.instance('c01');
  const other = await rows.instance('c03');
  const gone = await rows.instance('c01', { deleted: true });
  const pa = await rows.port(a.uuid, 'c01');
  const pb1 = await rows.port(b.uuid, 'c01', { levels: 2 });
  const pb2 = await rows.port(b.uuid, 'c01');
  const po = await rows.port(other.uuid, 'c03');
  return { a, b, other, gone, pa, pb1, pb2, po };
}

async function one<T = RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await z.admin.query<RowDataPacket[]>(sql, params);
  return r as T[];
}
const T = (db: 'nova' | 'neutron', t: string) => `${mysql.escapeId(z.schemas[db])}.${mysql.escapeId(t)}`;

describe('runbook queries', () => {
  it('lists the non-deleted instances on a host (6.1)', async () => {
    const { a, b } = await arrange();
    const got = await db.instancesOnHost('c01');
    expect(got.map((i) => i.uuid)).toEqual([a.uuid, b.uuid]);
    expect(got[0]).toMatchObject({ host: 'c01', node: 'c01', vmState: 'active', powerState: 1 });
  });

  it('joins volume_attachment to volumes and nova.instances for the volumes on a host (5.1, Zed form)', async () => {
    const { a, b, other } = await arrange();
    const va = await rows.attachedVolume(a.uuid, 'c01', '/dev/vdb');
    const vb = await rows.attachedVolume(b.uuid, 'c01', '/dev/vdc');
    await rows.attachedVolume(b.uuid, 'c01', '/dev/vdd', { deleted: true }); // detached: attachment deleted
    await rows.attachedVolume(other.uuid, 'c03', '/dev/vdb');
    const got = await db.volumesOnHost('c01');
    expect(got).toEqual([
      expect.objectContaining({
        instanceUuid: a.uuid,
        host: 'c01',
        volumeId: va.volumeId,
        volumeStatus: 'in-use',
        attachStatus: 'attached',
        mountpoint: '/dev/vdb',
        attachmentId: va.attachmentId,
      }),
      expect.objectContaining({ instanceUuid: b.uuid, volumeId: vb.volumeId, mountpoint: '/dev/vdc' }),
    ]);
  });

  it('refuses a host name that is not one before touching the database', async () => {
    await expect(db.instancesOnHost("c01' OR 1=1 -- ")).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('evacuate by SQL', () => {
  it('dry-run returns the statements with row counts and display copies, and writes nothing', async () => {
    const { a, b } = await arrange();
    const before = await rows.snapshot();
    const plan = await db.planEvacuate({ from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] });
    expect(plan.expected).toEqual({ instances: 2, portBindings: 3, portBindingLevels: 4 });
    expect(plan.singleTransaction).toBe(true);
    expect(plan.statements.map((s) => [s.statement, s.rows])).toEqual([
      ['evacuate.nova.instances', 2],
      ['evacuate.neutron.ml2_port_bindings', 3],
      ['evacuate.neutron.ml2_port_binding_levels', 4],
    ]);
    const inst = plan.statements[0]!;
    expect(inst.sql).toBe(`UPDATE ${T('nova', 'instances')} SET \`host\` = ?, \`node\` = ? WHERE (\`id\` = ?) OR (\`id\` = ?)`);
    expect(inst.params).toEqual(['c02', 'c02', a.id, b.id]);
    expect(inst.display).toBe(`UPDATE ${T('nova', 'instances')} SET \`host\` = 'c02', \`node\` = 'c02' WHERE (\`id\` = ${a.id}) OR (\`id\` = ${b.id})`);
    expect(await rows.snapshot()).toEqual(before);
  });

  it('moves host and node, the bindings and the binding levels of exactly those instances, journaling pre-images first', async () => {
    const { a, b, other, gone, pa, pb1, pb2, po } = await arrange();
    const plan = await db.planEvacuate({ from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] });
    const journal = new MemoryJournal();
    const res = await db.applyEvacuate({ from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] }, plan.expected, { journal, operationId: 'op-1' });
    expect(res.attempts).toBe(1);
    expect(res.writeIds).toHaveLength(1);
    const inst = await one(`SELECT uuid, host, node FROM ${T('nova', 'instances')} ORDER BY id`);
    expect(inst).toEqual([
      { uuid: a.uuid, host: 'c02', node: 'c02' },
      { uuid: b.uuid, host: 'c02', node: 'c02' },
      { uuid: other.uuid, host: 'c03', node: 'c03' },
      { uuid: gone.uuid, host: 'c01', node: 'c01' },
    ]);
    const bind = await one<{ port_id: string; host: string }>(`SELECT port_id, host FROM ${T('neutron', 'ml2_port_bindings')}`);
    expect(Object.fromEntries(bind.map((r) => [r.port_id, r.host]))).toEqual({ [pa]: 'c02', [pb1]: 'c02', [pb2]: 'c02', [po]: 'c03' });
    const lv = await one(`SELECT host, COUNT(*) AS n FROM ${T('neutron', 'ml2_port_binding_levels')} GROUP BY host ORDER BY host`);
    expect(lv).toEqual([
      { host: 'c02', n: 4 },
      { host: 'c03', n: 1 },
    ]);

    expect(journal.entries.map((e) => [e.statement, e.rows.length, e.writeId, e.operationId])).toEqual([
      ['evacuate.nova.instances', 2, res.writeIds[0], 'op-1'],
      ['evacuate.neutron.ml2_port_bindings', 3, res.writeIds[0], 'op-1'],
      ['evacuate.neutron.ml2_port_binding_levels', 4, res.writeIds[0], 'op-1'],
    ]);
    expect(journal.entries[0]!.rows[0]).toEqual({ key: { id: a.id }, before: { host: 'c01', node: 'c01' }, after: { host: 'c02', node: 'c02' } });
    expect(journal.entries[0]!.schema).toBe(z.schemas.nova);
  });

  it('reads back where nova and neutron place the instances, flagging disagreement', async () => {
    const { a, b, gone, pa, pb1, pb2 } = await arrange();
    const input = { from: 'c01', to: 'c02', instanceUuids: [a.uuid] };
    await db.applyEvacuate(input, (await db.planEvacuate(input)).expected, { journal: new MemoryJournal() });
    // Half-done by hand: b's host moved in nova, its ports not.
    await z.admin.query(`UPDATE ${T('nova', 'instances')} SET host = 'c02', node = 'c02' WHERE id = ?`, [b.id]);
    const locs = await db.instanceLocations([a.uuid, b.uuid, gone.uuid]);
    expect(locs).toEqual([
      { uuid: a.uuid, host: 'c02', node: 'c02', bindings: [{ portId: pa, host: 'c02', status: 'ACTIVE' }], consistent: true },
      {
        uuid: b.uuid,
        host: 'c02',
        node: 'c02',
        bindings: [pb1, pb2].sort().map((p) => ({ portId: p, host: 'c01', status: 'ACTIVE' })),
        consistent: false,
      },
    ]);
  });

  it('a row-count mismatch rolls everything back (DB_ROWCOUNT_MISMATCH) and journals nothing past it', async () => {
    const { a, b } = await arrange();
    const before = await rows.snapshot();
    const journal = new MemoryJournal();
    const err = await db
      .applyEvacuate({ from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] }, { instances: 2, portBindings: 2, portBindingLevels: 4 }, { journal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbRowCountError);
    expect(err).toMatchObject({ code: 'DB_ROWCOUNT_MISMATCH', expected: 2, actual: 3, statement: 'evacuate.neutron.ml2_port_bindings' });
    expect(journal.entries.map((e) => e.statement)).toEqual(['evacuate.nova.instances']);
    expect(await rows.snapshot()).toEqual(before);
  });

  it('undo restores exactly the pre-image, and refuses when a row changed since', async () => {
    const { a, b } = await arrange();
    const before = await rows.snapshot();
    const input = { from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] };
    const journal = new MemoryJournal();
    const res = await db.applyEvacuate(input, (await db.planEvacuate(input)).expected, { journal });
    const entries = journal.committed(res.writeIds);

    // Someone moves instance b on by hand: the undo must not overwrite that.
    await z.admin.query(`UPDATE ${T('nova', 'instances')} SET host = 'c04' WHERE id = ?`, [b.id]);
    const afterManual = await rows.snapshot();
    const err = await db.undo(entries, { journal: new MemoryJournal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbUndoConflictError);
    expect((err as DbUndoConflictError).conflicts).toEqual([
      { table: 'nova.instances', key: { id: b.id }, expected: { host: 'c02', node: 'c02' }, found: { host: 'c04', node: 'c02' } },
    ]);
    expect(await rows.snapshot()).toEqual(afterManual);

    await z.admin.query(`UPDATE ${T('nova', 'instances')} SET host = 'c02' WHERE id = ?`, [b.id]);
    const undoJournal = new MemoryJournal();
    const u = await db.undo(entries, { journal: undoJournal });
    expect(u.statements.map((s) => [s.statement, s.rows])).toEqual([
      ['undo.evacuate.neutron.ml2_port_binding_levels', 4],
      ['undo.evacuate.neutron.ml2_port_bindings', 3],
      ['undo.evacuate.nova.instances', 2],
    ]);
    expect(undoJournal.entries).toHaveLength(3);
    const restored = await rows.snapshot();
    // updated_at is not ours to keep: compare everything else byte for byte.
    expect(restored).toEqual(before);
  });

  it('sets node to the destination compute node nova knows, and refuses when that is unknown or ambiguous', async () => {
    const a = await rows.instance('c01');
    const input = { from: 'c01', to: 'c05', instanceUuids: [a.uuid] };
    await expect(db.planEvacuate(input)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      problems: [{ path: 'to', message: expect.stringContaining('c05 has no compute node') }],
    });
    await rows.computeNode('c05', 'c05.nodes.example.com');
    const plan = await db.planEvacuate(input);
    expect(plan.target.toNode).toBe('c05.nodes.example.com');
    expect(plan.statements[0]!.params.slice(0, 2)).toEqual(['c05', 'c05.nodes.example.com']);
    await expect(db.planEvacuate({ ...input, toNode: 'c05' })).rejects.toMatchObject({
      problems: [{ path: 'toNode', message: 'c05 has no compute node c05; it has c05.nodes.example.com' }],
    });
    await rows.computeNode('c05', 'c05-b.nodes.example.com');
    await expect(db.planEvacuate(input)).rejects.toMatchObject({ problems: [{ path: 'toNode', message: expect.stringContaining('say which one') }] });
    const res = await db.applyEvacuate({ ...input, toNode: 'c05-b.nodes.example.com' }, plan.expected, { journal: new MemoryJournal() });
    expect(res.statements[0]!.params.slice(0, 2)).toEqual(['c05', 'c05-b.nodes.example.com']);
  });

  it('refuses to evacuate onto the same host and refuses non-UUIDs', async () => {
    await expect(db.planEvacuate({ from: 'c01', to: 'c01', instanceUuids: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'] })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
    await expect(db.planEvacuate({ from: 'c01', to: 'c02', instanceUuids: ["x' OR '1'='1"] })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('sessions', () => {
  it('every session has sql_safe_updates on, a server-side statement limit and our lock-wait limit', async () => {
    const pools = new DbPools(loadDbConfig(z.config({ queryTimeoutMs: 7_000, lockWaitTimeoutSec: 3 })));
    try {
      await pools.withSession(['nova', 'neutron'], 'test', async (s) => {
        const [v] = await s.rows(
          'nova',
          'test.vars',
          'SELECT @@session.sql_safe_updates AS safe, @@session.max_statement_time AS mst, @@session.innodb_lock_wait_timeout AS lw',
          [],
        );
        expect([Number(v!['safe']), Number(v!['mst']), Number(v!['lw'])]).toEqual([1, 7, 3]);
        // An UPDATE whose WHERE uses no index (display_name) is refused by the server itself (1175), whatever a future caller builds.
        const err = await s
          .write('nova', 'test.keyless', `UPDATE ${s.table('nova', 'instances')} SET host = ? WHERE display_name = ?`, ['x', 'y'])
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'DB_FAILED', info: { errno: 1175, statement: 'test.keyless' } });
      });
    } finally {
      await pools.close();
    }
  });
});

describe('grants preflight', () => {
  it('reports exactly the missing privileges of a restricted login and refuses to write', async () => {
    const user = `${z.prefix}_ro`;
    const pw = 'pw-' + z.prefix;
    await z.admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, pw]);
    try {
      for (const [dbn, table, priv] of [
        ['nova', 'instances', 'SELECT'],
        ['nova', 'instances', 'UPDATE'],
        ['nova', 'compute_nodes', 'SELECT'],
        ['neutron', 'ports', 'SELECT'],
        ['neutron', 'ml2_port_bindings', 'SELECT'],
        ['neutron', 'ml2_port_binding_levels', 'SELECT'],
        ['cinder', 'volumes', 'SELECT'],
        ['cinder', 'volume_attachment', 'SELECT'],
      ] as const) {
        await z.admin.query(`GRANT ${priv} ON ${T(dbn as 'nova', table)} TO ?@'%'`, [user]);
      }
      // Column-level: UPDATE on bindings only for vif_type, not host.
      await z.admin.query(`GRANT UPDATE (vif_type) ON ${T('neutron', 'ml2_port_bindings')} TO ?@'%'`, [user]);
      const cred = { user, password: pw };
      const ro = createDbAdapter(z.config({ nova: cred, nova_api: cred, neutron: cred, cinder: cred }));
      try {
        const report = await ro.preflight();
        expect(report.ok).toBe(false);
        expect(report.missing.map((m) => `${m.privilege} ${m.database}.${m.table}(${m.columns.join(',')}) ${m.errno}`)).toEqual([
          'UPDATE neutron.ml2_port_bindings(host) 1143',
          'UPDATE neutron.ml2_port_binding_levels(host) 1142',
        ]);
        expect(report.grants[0]!.lines.join('\n')).toContain(`UPDATE (\`vif_type\`) ON \`${z.schemas.neutron}\`.\`ml2_port_bindings\``);
        expect(report.grants[0]!.lines.join('\n')).not.toMatch(/PASSWORD '/);

        const { a } = await arrange();
        const before = await rows.snapshot();
        const err = await ro
          .applyEvacuate(
            { from: 'c01', to: 'c02', instanceUuids: [a.uuid] },
            { instances: 1, portBindings: 1, portBindingLevels: 1 },
            { journal: new MemoryJournal() },
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DbPreflightError);
        expect((err as Error).message).toContain('UPDATE(host) on neutron.ml2_port_binding_levels');
        expect(await rows.snapshot()).toEqual(before);

        // cinder on another login than nova: the volume query runs as two statements, same answer.
        const split = createDbAdapter(z.config({ cinder: cred }));
        try {
          const v = await rows.attachedVolume(a.uuid, 'c01', '/dev/vdb');
          expect(await split.volumesOnHost('c01')).toEqual(await db.volumesOnHost('c01'));
          expect((await split.volumesOnHost('c01')).map((x) => x.volumeId)).toEqual([v.volumeId]);
        } finally {
          await split.close();
        }

        const full = await db.preflight();
        expect(full).toMatchObject({ ok: true, missing: [] });
      } finally {
        await ro.close();
      }
    } finally {
      await z.admin.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    }
  });
});
