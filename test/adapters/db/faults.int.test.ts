// Faults in the middle of an evacuate-by-SQL transaction, on the real Zed schemas: a killed
// connection, a failure injected on ml2_port_bindings after the nova update, a real deadlock, lock
// waits that never end, a statement timeout, a journal that fails, and nova/neutron on two logins.
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDbAdapter, DbError, MemoryJournal, type DbAdapter } from '../../../adapters/db.js';
import { createZedDatabases, testServer, type ZedDatabases } from '../../helpers/zed-schema.js';
import { ZedRows } from './zed-rows.js';

let z: ZedDatabases;
let db: DbAdapter;
let rows: ZedRows;
let other: Connection;

beforeAll(async () => {
  z = await createZedDatabases(['nova', 'nova_api', 'neutron', 'cinder']);
  db = createDbAdapter(z.config());
  rows = new ZedRows(z);
  other = await z.connect();
});
afterAll(async () => {
  await db?.close();
  await z?.drop();
});
beforeEach(async () => {
  await other.query('ROLLBACK').catch(() => undefined);
  await rows.clear();
});

const T = (d: 'nova' | 'neutron', t: string) => `${mysql.escapeId(z.schemas[d])}.${mysql.escapeId(t)}`;

async function arrange() {
  await rows.computeNode('c02');
  const a = await rows.instance('c01');
  const b = await rows.instance('c01');
  const pa = await rows.port(a.uuid, 'c01');
  const pb = await rows.port(b.uuid, 'c01', { levels: 2 });
  const input = { from: 'c01', to: 'c02', instanceUuids: [a.uuid, b.uuid] };
  return { a, b, pa, pb, input, expected: { instances: 2, portBindings: 2, portBindingLevels: 3 } };
}

/**
 * Waits (bounded) until our transaction has updated nova and is running the bindings pre-image read
 * (blocked by the other connection's lock); returns its connection id. The processlist is used
 * because information_schema.innodb_trx is a cache that can lag by seconds.
 */
async function waitForBindingsRead(timeoutMs = 10_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [r] = await z.admin.query<RowDataPacket[]>('SELECT id FROM information_schema.processlist WHERE info LIKE ? AND info LIKE ?', [
      `%${z.prefix}_neutron%ml2_port_bindings%`,
      '%FOR UPDATE',
    ]);
    if (r[0]) return Number(r[0]['id']);
    if (Date.now() > until) throw new Error('our transaction never reached the ml2_port_bindings pre-image read');
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('evacuate by SQL under faults', () => {
  it('a connection killed mid-transaction fails with DbError and changes nothing', async () => {
    const { pa, input, expected } = await arrange();
    const before = await rows.snapshot();
    // Hold the first port's binding so our transaction stops after updating nova.instances.
    await other.query('START TRANSACTION');
    await other.query(`SELECT * FROM ${T('neutron', 'ml2_port_bindings')} WHERE port_id = ? FOR UPDATE`, [pa]);
    const running = db.applyEvacuate(input, expected, { journal: new MemoryJournal() }).catch((e: unknown) => e);
    const id = await waitForBindingsRead();
    await z.admin.query('KILL ?', [id]);
    const err = await running;
    await other.query('ROLLBACK');
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).info.statement).toBe('evacuate.neutron.ml2_port_bindings.pre-image');
    expect(await rows.snapshot()).toEqual(before);
    // The pool threw the dead connection away: the next call works.
    expect(await db.instancesOnHost('c01')).toHaveLength(2);
  });

  it('a failure on ml2_port_bindings after the nova update rolls both back', async () => {
    const { input, expected } = await arrange();
    const before = await rows.snapshot();
    const trig = `${mysql.escapeId(z.schemas.neutron)}.\`inject_fail\``;
    await z.admin.query(
      `CREATE TRIGGER ${trig} BEFORE UPDATE ON ${T('neutron', 'ml2_port_bindings')} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'`,
    );
    try {
      const journal = new MemoryJournal();
      const err = await db.applyEvacuate(input, expected, { journal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).info).toMatchObject({ statement: 'evacuate.neutron.ml2_port_bindings', sqlState: '45000', errno: 1644, database: 'neutron' });
      expect((err as Error).message).toContain('injected failure');
      // The pre-images were journaled before each write; the nova write ran, then everything rolled back.
      expect(journal.entries.map((e) => e.statement)).toEqual(['evacuate.nova.instances', 'evacuate.neutron.ml2_port_bindings']);
      expect(await rows.snapshot()).toEqual(before);
    } finally {
      await z.admin.query(`DROP TRIGGER IF EXISTS ${trig}`);
    }
  });

  it('a journal that cannot store the pre-image stops the write', async () => {
    const { input, expected } = await arrange();
    const before = await rows.snapshot();
    let n = 0;
    const journal = {
      preImage: async () => {
        if (++n === 2) throw new Error('journal disk full');
      },
    };
    const err = await db.applyEvacuate(input, expected, { journal }).catch((e: unknown) => e);
    // The journal's own error reaches the caller unchanged.
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DbError);
    expect((err as Error).message).toBe('journal disk full');
    expect(await rows.snapshot()).toEqual(before);
  });

  it('a real deadlock makes us the victim; the whole transaction is retried and succeeds', async () => {
    const { a, pa, input, expected } = await arrange();
    const journal = new MemoryJournal();
    // The other transaction first does a lot of work, so InnoDB picks our (lighter) one as the victim.
    await other.query('START TRANSACTION');
    await other.query(
      `INSERT INTO ${T('neutron', 'standardattributes')} (resource_type, revision_number) SELECT 'filler', 0 FROM ${mysql.escapeId(z.schemas.neutron)}.seq_1_to_500`,
    );
    await other.query(`SELECT * FROM ${T('neutron', 'ml2_port_bindings')} WHERE port_id = ? FOR UPDATE`, [pa]);
    const running = db.applyEvacuate(input, expected, { journal });
    await waitForBindingsRead();
    // We hold instance a (updated) and wait for pa; the other now asks for instance a: a cycle.
    await other.query(`SELECT * FROM ${T('nova', 'instances')} WHERE id = ? FOR UPDATE`, [a.id]);
    await other.query('ROLLBACK');
    const res = await running;
    expect(res.attempts).toBe(2);
    const ids = [...new Set(journal.entries.map((e) => e.writeId))];
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(res.writeIds[0]);
    expect(journal.committed(res.writeIds).map((e) => e.statement)).toEqual([
      'evacuate.nova.instances',
      'evacuate.neutron.ml2_port_bindings',
      'evacuate.neutron.ml2_port_binding_levels',
    ]);
    const [inst] = await z.admin.query<RowDataPacket[]>(`SELECT DISTINCT host, node FROM ${T('nova', 'instances')}`);
    expect(inst).toEqual([{ host: 'c02', node: 'c02' }]);
  });

  it('lock waits that never end are retried a bounded number of times, then fail with errno 1205 and nothing changed', async () => {
    const { pa, input, expected } = await arrange();
    const before = await rows.snapshot();
    const impatient = createDbAdapter(z.config({ lockWaitTimeoutSec: 1, maxAttempts: 2 }));
    try {
      await other.query('START TRANSACTION');
      await other.query(`SELECT * FROM ${T('neutron', 'ml2_port_bindings')} WHERE port_id = ? FOR UPDATE`, [pa]);
      const err = await impatient.applyEvacuate(input, expected, { journal: new MemoryJournal() }).catch((e: unknown) => e);
      await other.query('ROLLBACK');
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).info).toMatchObject({ errno: 1205, attempts: 2 });
      expect(await rows.snapshot()).toEqual(before);
    } finally {
      await impatient.close();
    }
  });

  it('a statement that exceeds the query timeout fails, nothing changed', async () => {
    const { pa, input, expected } = await arrange();
    const before = await rows.snapshot();
    const hasty = createDbAdapter(z.config({ queryTimeoutMs: 500, lockWaitTimeoutSec: 30 }));
    try {
      await other.query('START TRANSACTION');
      await other.query(`SELECT * FROM ${T('neutron', 'ml2_port_bindings')} WHERE port_id = ? FOR UPDATE`, [pa]);
      const err = await hasty.applyEvacuate(input, expected, { journal: new MemoryJournal() }).catch((e: unknown) => e);
      await other.query('ROLLBACK');
      expect(err).toBeInstanceOf(DbError);
      // Whichever fires first: the client's timer or the server's max_statement_time (1969).
      const info = (err as DbError).info;
      expect(info.clientCode === 'PROTOCOL_SEQUENCE_TIMEOUT' || info.errno === 1969).toBe(true);
      expect(await rows.snapshot()).toEqual(before);
    } finally {
      await hasty.close();
    }
  });

  it('the link dies right after COMMIT reached the server: the error says in doubt, and a read-back shows the truth', async () => {
    const { a, b, input, expected } = await arrange();
    // A wire-level proxy: forwards everything, but once armed, passes COMMIT on and then cuts the
    // client off before the server's OK can reach it.
    let armed = false;
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      const up = tcpConnect(testServer().port, testServer().host);
      sockets.push(client, up);
      let cut = false;
      client.on('data', (d) => {
        if (armed && d.includes(Buffer.from('\x03COMMIT', 'latin1'))) cut = true;
        up.write(d);
      });
      up.on('data', (d) => {
        if (cut) {
          client.destroy();
          up.destroy();
        } else client.write(d);
      });
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const base = z.config();
    const viaProxy = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, typeof v === 'object' && v !== null ? { ...v, port } : v]));
    const flaky = createDbAdapter(viaProxy);
    try {
      await flaky.preflight();
      await flaky.instanceLocations([a.uuid]); // warm: grants checked before arming
      await flaky.planEvacuate(input);
      armed = true;
      const err = await flaky.applyEvacuate(input, expected, { journal: new MemoryJournal() }).catch((e: unknown) => e);
      armed = false;
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).info).toMatchObject({ statement: 'evacuate.commit', inDoubt: true });
      expect((err as Error).message).toContain('may or may not have been committed');
      // The server did commit: reading back (on a healthy link) is how a runner settles the doubt.
      const locs = await db.instanceLocations([a.uuid, b.uuid]);
      expect(locs.map((l) => [l.host, l.node, l.consistent])).toEqual([
        ['c02', 'c02', true],
        ['c02', 'c02', true],
      ]);
    } finally {
      await flaky.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('nova and neutron on different logins: two transactions; a neutron failure undoes the committed nova part', async () => {
    const { input, expected } = await arrange();
    const before = await rows.snapshot();
    const user = `${z.prefix}_nt`;
    await z.admin.query(`CREATE USER ?@'%' IDENTIFIED BY 'nt-pw'`, [user]);
    const trig = `${mysql.escapeId(z.schemas.neutron)}.\`inject_fail2\``;
    const split = createDbAdapter(z.config({ neutron: { user, password: 'nt-pw' } }));
    try {
      await z.admin.query(`GRANT SELECT, UPDATE ON ${mysql.escapeId(z.schemas.neutron)}.* TO ?@'%'`, [user]);
      const plan = await split.planEvacuate(input);
      expect(plan).toMatchObject({ singleTransaction: false, expected });
      await z.admin.query(
        `CREATE TRIGGER ${trig} BEFORE UPDATE ON ${T('neutron', 'ml2_port_binding_levels')} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected on levels'`,
      );
      const journal = new MemoryJournal();
      const err = await split.applyEvacuate(input, expected, { journal }).catch((e: unknown) => e);
      expect((err as Error).message).toContain('injected on levels');
      // nova committed, then was restored from its pre-image (the undo journaled its own pre-image).
      expect(journal.entries.map((e) => e.statement)).toEqual([
        'evacuate.nova.instances',
        'evacuate.neutron.ml2_port_bindings',
        'evacuate.neutron.ml2_port_binding_levels',
        'undo.evacuate.nova.instances',
      ]);
      expect(await rows.snapshot()).toEqual(before);

      await z.admin.query(`DROP TRIGGER ${trig}`);
      const ok = await split.applyEvacuate(input, expected, { journal });
      expect(ok).toMatchObject({ singleTransaction: false });
      expect(ok.writeIds).toHaveLength(2);
    } finally {
      await split.close();
      await z.admin.query(`DROP TRIGGER IF EXISTS ${trig}`);
      await z.admin.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    }
  });
});
