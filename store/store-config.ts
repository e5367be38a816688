/**
 * The `store:` section of the bot's configuration (the config loader embeds this schema).
 *
 *   store: { kind: sqlite, path: /var/lib/chatops/state.db }           # default
 *   store: { kind: mysql, host: 127.0.0.1, port: 3306, user: chatops, database: chatops }
 *
 * The MySQL password comes from the environment (CHATOPS_STORE_PASSWORD), never from the file.
 */
import { z } from 'zod';

export const sqliteStoreConfigSchema = z.object({
  kind: z.literal('sqlite'),
  /** File path; ":memory:" for tests only (one process, lost at exit). */
  path: z.string().min(1, 'expected a file path for the SQLite store'),
  /** How long a writer waits for another process's write lock (ms). */
  busyTimeoutMs: z.number().int().min(0).max(600_000).default(5_000),
});

export const mysqlStoreConfigSchema = z.object({
  kind: z.literal('mysql'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(3306),
  user: z.string().min(1, 'expected a MySQL user name'),
  password: z.string().default(''),
  database: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'expected a database name of letters, digits and _ (at most 64)'),
  /** Connections in the pool. */
  connectionLimit: z.number().int().min(1).max(1000).default(10),
});

export const storeConfigSchema = z.discriminatedUnion('kind', [sqliteStoreConfigSchema, mysqlStoreConfigSchema]);
export type StoreConfig = z.input<typeof storeConfigSchema>;
export type SqliteStoreConfig = z.output<typeof sqliteStoreConfigSchema>;
export type MysqlStoreConfig = z.output<typeof mysqlStoreConfigSchema>;
