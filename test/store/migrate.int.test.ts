/** Versioned migrations on both backends: applied once, in order, by one replica; newer schemas refused. */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { migrate } from '../../store/migrate.js';
import { MIGRATIONS, type Migration } from '../../store/migrations.js';
import { MysqlDriver } from '../../store/mysql-driver.js';
import type { SqlDriver } from '../../store/sql-driver.js';
import { SqliteDriver } from '../../store/sqlite-driver.js';
import { mysqlStoreConfigSchema } from '../../store/store-config.js';
import { StoreError } from '../../store/store-error.js';
import { backends, type Backend } from './backends.js';

function driverOf(b: Backend): SqlDriver {
  const c = b.config();
  return c.kind === 'sqlite' ? new SqliteDriver(c.path, 5000) : new MysqlDriver(mysqlStoreConfigSchema.parse(c));
}

// One more migration after the real ones that fails when run twice (no IF NOT EXISTS): proves it is applied once.
const LATEST = MIGRATIONS.at(-1)!.version;
const NEXT = LATEST + 1;
const v2: Migration = { version: NEXT, name: 'test extra table', sqlite: ['CREATE TABLE t_extra (x INTEGER)'], mysql: ['CREATE TABLE t_extra (x INT)'] };

describe.each(backends().map((b) => [b.name, b] as const))('migrations: %s', (_name, backend) => {
  const clock = new ManualClock();
  const open: SqlDriver[] = [];
  const driver = (): SqlDriver => {
    const d = driverOf(backend);
    open.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    await backend.teardown();
  });

  it('applies each version once, even when several replicas start together', async () => {
    await backend.setup();
    const versions = await Promise.all([driver(), driver(), driver()].map((d) => migrate(d, clock, [...MIGRATIONS, v2])));
    expect(versions).toEqual([NEXT, NEXT, NEXT]);
    const d = driver();
    expect(await migrate(d, clock, [...MIGRATIONS, v2])).toBe(NEXT);
    const rows = await d.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual([...MIGRATIONS.map((m) => m.version), NEXT]);
    expect(await d.all('SELECT * FROM t_extra')).toEqual([]);
  });

  it('refuses a database whose schema is newer than this code', async () => {
    await backend.setup();
    const d = driver();
    await migrate(d, clock, [...MIGRATIONS, v2]);
    const err = await migrate(d, clock, MIGRATIONS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(new RegExp(`schema is version ${NEXT} but this bot knows versions up to ${LATEST}`));
  });
});
