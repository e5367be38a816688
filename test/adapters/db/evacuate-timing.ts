/**
 * Measures evacuate-by-SQL on the real Zed schemas (not a test: no assertions on time).
 * Run: npx tsx test/adapters/db/evacuate-timing.ts [N…]   (default 1 10 50 200 instances, 2 ports each)
 * Prints median milliseconds of plan (dry-run), apply and undo over 5 rounds per N.
 */
import { createDbAdapter, MemoryJournal } from '../../../adapters/db.js';
import { createZedDatabases } from '../../helpers/zed-schema.js';
import { ZedRows } from './zed-rows.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const ns = sizes.length ? sizes : [1, 10, 50, 200];
const ROUNDS = 5;

const z = await createZedDatabases(['nova', 'neutron']);
const db = createDbAdapter(z.config());
const rows = new ZedRows(z);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
try {
  console.log('N instances | ports | plan ms | apply ms | undo ms');
  for (const n of ns) {
    await rows.clear();
    await rows.computeNode('c02');
    const uuids: string[] = [];
    for (let i = 0; i < n; i++) {
      const inst = await rows.instance('c01');
      uuids.push(inst.uuid);
      await rows.port(inst.uuid, 'c01');
      await rows.port(inst.uuid, 'c01');
    }
    const input = { from: 'c01', to: 'c02', instanceUuids: uuids };
    await db.preflight();
    const t = { plan: [] as number[], apply: [] as number[], undo: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = performance.now();
      const plan = await db.planEvacuate(input);
      t.plan.push(performance.now() - t0);
      const journal = new MemoryJournal();
      t0 = performance.now();
      const res = await db.applyEvacuate(input, plan.expected, { journal });
      t.apply.push(performance.now() - t0);
      t0 = performance.now();
      await db.undo(journal.committed(res.writeIds), { journal: new MemoryJournal() });
      t.undo.push(performance.now() - t0);
    }
    console.log(`${n} | ${2 * n} | ${median(t.plan).toFixed(1)} | ${median(t.apply).toFixed(1)} | ${median(t.undo).toFixed(1)}`);
  }
} finally {
  await db.close();
  await z.drop();
}
