/**
 * The engine suite on MariaDB, and two replicas (two engines, two connection pools, different
 * owners) sharing one MariaDB store: concurrent clicks and starts on both run an operation once.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, openFixture, scratchCommand, type FixtureWhere } from './helpers/engine-fixture.js';
import { engineSuite } from './helpers/engine-suite.js';

const prefix = `t5eng_${randomBytes(4).toString('hex')}`;
let admin: mysql.Connection;
let n = 0;
beforeAll(async () => {
  admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
});
afterAll(async () => {
  const [rows] = await admin.query('SHOW DATABASES');
  for (const r of rows as { Database: string }[]) if (r.Database.startsWith(prefix)) await admin.query(`DROP DATABASE \`${r.Database}\``);
  await admin.end();
});

async function mariadb(): Promise<{ where: FixtureWhere; cleanup(): Promise<void> }> {
  const i = n++;
  const dbs = [`${prefix}_${i}_store`, `${prefix}_${i}_scratch`] as const;
  for (const db of dbs) await admin.query(`CREATE DATABASE \`${db}\``);
  return {
    where: { store: { kind: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', database: dbs[0] }, scratch: `mysql:${dbs[1]}` },
    cleanup: async () => {
      for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    },
  };
}

engineSuite('MariaDB', mariadb);

describe('two replicas sharing MariaDB', () => {
  it('100 Approve clicks and 100 starts spread over both replicas run the operation exactly once', async () => {
    const b = await mariadb();
    const a = await openFixture(b.where, { owner: 'replica-a' });
    const c = await openFixture(b.where, { owner: 'replica-b' });
    try {
      const sub = await a.engine.submit(scratchCommand({ host: 'c01' }));
      if (sub.kind !== 'needs-approval') throw new Error('expected approval');
      const clicks = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : c).engine.approve(sub.approval.id, { userId: `U0CLICK${i}`, teamId: 'T0TEAM' }));
      const starts = Array.from({ length: 100 }, (_, i) => (i % 2 ? c : a).engine.start(sub.operation.id, BOB));
      const results = await Promise.all([...clicks.map((p) => p.then((r) => r.start)), ...starts]);
      const started = results.filter((r) => r?.kind === 'started');
      expect(started).toHaveLength(1);
      if (started[0]?.kind === 'started') expect(await started[0].done).toBe('succeeded');
      expect(await a.scratch.counts(sub.operation.id)).toEqual({ 'write-1': 1, 'write-2': 1, destroy: 1, 'write-3': 1, cleanup: 1 });
      // Start-up reconciliation on both replicas finds nothing left to do.
      expect(await a.engine.reconcileOnStartup()).toEqual([]);
      expect(await c.engine.reconcileOnStartup()).toEqual([]);
    } finally {
      await a.close();
      await c.close();
      await b.cleanup();
    }
  });
});
