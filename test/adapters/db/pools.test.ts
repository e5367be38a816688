// Connection faults on a fake wire: a listener that never sends the MariaDB greeting, and a closed
// port. Every call must end with a DbError rather than hang.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbAdapter, DbError } from '../../../adapters/db.js';

let silent: Server;
let silentPort = 0;
const sockets: Socket[] = [];

beforeAll(async () => {
  silent = createServer((s) => sockets.push(s)); // accepts, then says nothing
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

const cfg = (port: number) => {
  const e = { host: '127.0.0.1', port, user: 'nobody', password: '', database: 'nova' };
  return {
    nova: e,
    nova_api: { ...e, database: 'nova_api' },
    neutron: { ...e, database: 'neutron' },
    cinder: { ...e, database: 'cinder' },
    connectTimeoutMs: 300,
    acquireTimeoutMs: 2_000,
  };
};

describe('SQL adapter connection faults', () => {
  it('a server that never greets ends in DbError within the connect timeout', async () => {
    const db = createDbAdapter(cfg(silentPort));
    try {
      const err = await db.instancesOnHost('c01').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).info).toMatchObject({ statement: 'instances-on-host.connect', clientCode: 'ETIMEDOUT', database: ['nova'] });
    } finally {
      await db.close();
    }
  });

  it('a closed port ends in DbError ECONNREFUSED', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const db = createDbAdapter(cfg(port));
    try {
      const err = await db.planEvacuate({ from: 'c01', to: 'c02', instanceUuids: ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbError);
      expect((err as DbError).info.clientCode).toBe('ECONNREFUSED');
    } finally {
      await db.close();
    }
  });
});
