import { systemClock, type Clock } from '../core/clock.js';
import { migrate } from './migrate.js';
import { MysqlDriver } from './mysql-driver.js';
import type { SqlDriver } from './sql-driver.js';
import { SqliteDriver } from './sqlite-driver.js';
import { storeConfigSchema, type StoreConfig } from './store-config.js';
import { StoreError } from './store-error.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

/**
 * Open the configured store and bring its schema up to date (versioned migrations, once among all
 * replicas). The caller closes it. `clock` is the time every stored timestamp and expiry uses.
 */
export async function openStore(config: StoreConfig, clock: Clock = systemClock): Promise<Store> {
  const c = storeConfigSchema.parse(config);
  let driver: SqlDriver;
  try {
    driver = c.kind === 'sqlite' ? new SqliteDriver(c.path, c.busyTimeoutMs) : new MysqlDriver(c);
  } catch (e) {
    throw new StoreError(`cannot open the ${c.kind} store: ${(e as Error).message}`, { cause: e });
  }
  try {
    await migrate(driver, clock);
  } catch (e) {
    await driver.close().catch(() => undefined);
    if (e instanceof StoreError) throw e;
    throw new StoreError(`cannot prepare the ${c.kind} store: ${(e as Error).message}`, { cause: e });
  }
  return new SqlStore(driver, clock);
}
