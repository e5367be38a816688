// Configuration of the SQL adapter: DSNs, defaults, every bad key reported at once, server identity.
import { describe, expect, it } from 'vitest';
import { loadDbConfig, parseDsn, serverKey } from '../../../adapters/db/config.js';
import { ConfigError } from '../../../core/errors.js';
import { display } from '../../../adapters/db/guarded-write.js';

const dsn = (db: string, user = 'chatops') => `mysql+pymysql://${user}:p%40ss@db.example.com:3307/${db}`;

describe('SQL adapter config', () => {
  it('parses oslo.db style DSNs and fills the defaults', () => {
    const cfg = loadDbConfig({ nova: dsn('nova'), nova_api: dsn('nova_api'), neutron: dsn('neutron'), cinder: dsn('cinder') });
    expect(cfg.nova).toEqual({ host: 'db.example.com', port: 3307, user: 'chatops', password: 'p@ss', database: 'nova' });
    expect(cfg).toMatchObject({ connectTimeoutMs: 5000, queryTimeoutMs: 15000, maxAttempts: 3, lockWaitTimeoutSec: 10 });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('reports every bad key at once, naming what was expected', () => {
    let err: unknown;
    try {
      loadDbConfig({ nova: 'postgres://x@h/nova', nova_api: dsn('nova_api'), neutron: dsn('neutron`; DROP'), queryTimeoutMs: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['nova', 'neutron.database', 'cinder', 'queryTimeoutMs']));
    expect((err as ConfigError).message).toContain('expected scheme mysql://');
    expect((err as ConfigError).message).not.toContain('p@ss');
  });

  it('databases on one login share a server key; another user or port does not', () => {
    const a = parseDsn(dsn('nova'));
    const b = parseDsn(dsn('neutron'));
    const c = parseDsn(dsn('neutron', 'other'));
    const full = (x: ReturnType<typeof parseDsn>) => ({ port: 3306, password: '', ...x });
    expect(serverKey(full(a))).toBe(serverKey(full(b)));
    expect(serverKey(full(a))).not.toBe(serverKey(full(c)));
  });

  it('display copies quote values for reading and are never what runs', () => {
    expect(display('UPDATE `n`.`instances` SET `host` = ? WHERE (`id` = ?)', ["c02'; --", 7])).toBe(
      "UPDATE `n`.`instances` SET `host` = 'c02\\'; --' WHERE (`id` = 7)",
    );
  });
});
