// Property: for any set of instances and ports spread over hosts, evacuating a random subset from
// c01 to c02 and then undoing it from the journaled pre-images leaves every row of every touched
// table exactly as it was. When the apply itself fails (a port already has a binding on c02, as
// after an aborted live migration), nothing has changed either.
import fc from 'fast-check';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDbAdapter, DbError, MemoryJournal, type DbAdapter } from '../../../adapters/db.js';
import { createZedDatabases, type ZedDatabases } from '../../helpers/zed-schema.js';
import { ZedRows } from './zed-rows.js';

let z: ZedDatabases;
let db: DbAdapter;
let rows: ZedRows;

beforeAll(async () => {
  z = await createZedDatabases(['nova', 'neutron']);
  db = createDbAdapter(z.config());
  rows = new ZedRows(z);
});
afterAll(async () => {
  await db?.close();
  await z?.drop();
});

const host = fc.constantFrom('c01', 'c01', 'c02', 'c03');
const portArb = fc.record({ levels: fc.integer({ min: 1, max: 2 }), extra: fc.constantFrom(undefined, undefined, undefined, 'c03', 'c02') });
const instanceArb = fc.record({
  host,
  deleted: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  oddNode: fc.boolean(),
  ports: fc.array(portArb, { maxLength: 3 }),
  pick: fc.boolean(),
});

it('apply then undo leaves every row as it was', async () => {
  let applied = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(instanceArb, { minLength: 1, maxLength: 8 }), async (spec) => {
      await rows.clear();
      await rows.computeNode('c02');
      const made = [];
      for (const s of spec) {
        const i = await rows.instance(s.host, { deleted: s.deleted, ...(s.oddNode ? { node: `${s.host}.nodes.example.com` } : {}) });
        for (const p of s.ports) await rows.port(i.uuid, s.host, { levels: p.levels, ...(p.extra && p.extra !== s.host ? { extraBindingHost: p.extra } : {}) });
        made.push({ ...i, ...s });
      }
      const picked = made.filter((m) => m.pick);
      if (picked.length === 0) return;
      const input = { from: 'c01', to: 'c02', instanceUuids: picked.map((m) => m.uuid) };
      const before = await rows.snapshot();
      const plan = await db.planEvacuate(input);
      const moving = picked.filter((m) => m.host === 'c01' && !m.deleted);
      // Only the moving instances' ports move: not a deleted instance's, not another host's.
      expect(plan.expected).toEqual({
        instances: moving.length,
        portBindings: moving.reduce((n, m) => n + m.ports.length, 0),
        portBindingLevels: moving.reduce((n, m) => n + m.ports.reduce((k, p) => k + p.levels, 0), 0),
      });

      // The plan names every port that would collide on c02, and only those.
      const colliding = moving.filter((m) => m.ports.some((p) => p.extra === 'c02')).length;
      expect(new Set(plan.destinationBindings.map((b) => b.deviceId)).size).toBe(colliding);
      const journal = new MemoryJournal();
      let res;
      try {
        res = await db.applyEvacuate(input, plan.expected, { journal });
      } catch (e) {
        // A port of a moved instance already bound on c02: the binding's primary key collides.
        expect(e).toBeInstanceOf(DbError);
        expect((e as DbError).info.errno).toBe(1062);
        expect(colliding).toBeGreaterThan(0);
        expect(await rows.snapshot()).toEqual(before);
        refused++;
        return;
      }
      applied++;
      expect(colliding).toBe(0);
      const [moved] = await z.admin.query<RowDataPacket[]>(`SELECT uuid FROM ${mysql.escapeId(z.schemas.nova)}.instances WHERE host = 'c02' AND node = 'c02'`);
      for (const m of moving) expect(moved.map((r) => r['uuid'])).toContain(m.uuid);

      await db.undo(journal.committed(res.writeIds), { journal: new MemoryJournal() });
      expect(await rows.snapshot()).toEqual(before);
    }),
    {
      numRuns: 30,
      // Always include one plain move and one that must be refused (a port already bound on c02).
      examples: [
        [[{ host: 'c01', deleted: false, oddNode: true, ports: [{ levels: 2, extra: 'c03' }], pick: true }]],
        [[{ host: 'c01', deleted: false, oddNode: false, ports: [{ levels: 1, extra: 'c02' }], pick: true }]],
      ],
    },
  );
  // The property exercised both outcomes, or it proved less than it claims.
  expect(applied).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);
}, 180_000);
