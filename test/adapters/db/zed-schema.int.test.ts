// The schema helper itself: fixtures found, orphans of killed runs swept, only ours.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { RowDataPacket } from 'mysql2/promise';
import { expect, it } from 'vitest';
import { createZedDatabases, ZED_SCHEMA_DIR, zedSchemaFile } from '../../helpers/zed-schema.js';

it('finds the fixtures in the repository, and names the path when missing', () => {
  for (const db of ['nova', 'nova_api', 'neutron', 'cinder'] as const) expect(zedSchemaFile(db)).toBe(`${ZED_SCHEMA_DIR}/${db}.sql`);
  expect(ZED_SCHEMA_DIR.startsWith(process.cwd())).toBe(true);
  expect(() => zedSchemaFile('nova', '/nonexistent')).toThrow('/nonexistent/nova.sql');
});

it('drops databases left by a killed run (our comment, dead pid) and leaves any other alone', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const z0 = await createZedDatabases([]);
  const orphan = `${z0.prefix}_orphan`;
  const foreign = `${z0.prefix}_foreign`;
  try {
    await z0.admin.query(`CREATE DATABASE \`${orphan}\` COMMENT ?`, [`chatops zed-schema test db pid=${dead} host=${hostname()}`]);
    await z0.admin.query(`CREATE DATABASE \`${foreign}\` COMMENT 'someone else'`);
    const z1 = await createZedDatabases([]);
    await z1.drop();
    const [r] = await z0.admin.query<RowDataPacket[]>('SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name IN (?, ?)', [
      orphan,
      foreign,
    ]);
    expect(r.map((x) => x['s'])).toEqual([foreign]);
  } finally {
    await z0.admin.query(`DROP DATABASE IF EXISTS \`${orphan}\``);
    await z0.admin.query(`DROP DATABASE IF EXISTS \`${foreign}\``);
    await z0.drop();
  }
});
