import type { Clock } from '../core/clock.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, type Migration } from './migrations.js';
import type { SqlDriver } from './sql-driver.js';
import { StoreError } from './store-error.js';

/**
 * Apply every migration not yet recorded in `schema_migrations`, in order, under the database-wide
 * migration lock (replicas starting together migrate once). Refuses a database newer than this code.
 * Returns the schema version afterwards.
 */
export async function migrate(driver: SqlDriver, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const latest = ordered.at(-1)?.version ?? 0;
  return driver.exclusive(async (x) => {
    await x.run(SCHEMA_MIGRATIONS_DDL[driver.dialect]);
    const rows = await x.all<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...applied);
    if (newest > latest) {
      throw new StoreError(
        `the store's schema is version ${newest} but this bot knows versions up to ${latest}: upgrade the bot (or point it at another database)`,
        {
          details: { schemaVersion: newest, known: latest },
        },
      );
    }
    for (const m of ordered) {
      if (applied.has(m.version)) continue;
      try {
        for (const sql of m[driver.dialect]) await x.run(sql);
        await x.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, clock.now()]);
      } catch (e) {
        if (driver.isDuplicateKey(e)) continue; // another replica recorded it meanwhile (no migration lock)
        throw new StoreError(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e, details: { version: m.version } });
      }
    }
    return Math.max(newest, latest);
  });
}
