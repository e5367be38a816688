/**
 * Versioned schema migrations, in order, one SQL list per dialect. A migration is never edited once
 * released: a change is a new, higher version. `schema_migrations` records what was applied.
 *
 * MySQL tables use utf8mb4_bin so keys compare byte for byte (Slack ids and de-duplication keys are
 * case-sensitive). Times are BIGINT epoch milliseconds from the bot's clock; JSON is stored as text.
 * Indexes are declared inside CREATE TABLE so that every statement is `IF NOT EXISTS`: MySQL DDL is
 * not transactional, and a migration interrupted half-way must be safe to run again.
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: readonly string[];
  mysql: readonly string[];
}

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const SCHEMA_MIGRATIONS_DDL = {
  sqlite: 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  mysql: `CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL) ${MYSQL_TABLE}`,
} as const;

/** Column types that differ; everything else is written once. */
function ddl(d: 'sqlite' | 'mysql'): Record<'id' | 'key' | 'text' | 'json' | 'time' | 'int' | 'seq' | 'table', string> {
  return d === 'sqlite'
    ? { id: 'TEXT', key: 'TEXT', text: 'TEXT', json: 'TEXT', time: 'INTEGER', int: 'INTEGER', seq: 'INTEGER PRIMARY KEY AUTOINCREMENT', table: '' }
    : {
        id: 'VARCHAR(32)',
        key: 'VARCHAR(255)',
        text: 'TEXT',
        json: 'LONGTEXT',
        time: 'BIGINT',
        int: 'INT',
        seq: 'BIGINT AUTO_INCREMENT PRIMARY KEY',
        table: MYSQL_TABLE,
      };
}

function v1(d: 'sqlite' | 'mysql'): string[] {
  const t = ddl(d);
  const requester = `requester_user ${t.id} NOT NULL, requester_team ${t.id} NOT NULL, requester_name ${t.key} NULL`;
  // SQLite wants separate CREATE INDEX statements; MySQL takes them inline (see the header comment).
  const index = (table: string, name: string, cols: string): string => (d === 'sqlite' ? `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (${cols})` : '');
  const inline = (name: string, cols: string): string => (d === 'mysql' ? `, INDEX ${name} (${cols})` : '');
  return [
    `CREATE TABLE IF NOT EXISTS operations (
      id ${t.id} PRIMARY KEY, runbook ${t.key} NOT NULL, target ${t.key} NOT NULL,
      plan ${t.json} NOT NULL, plan_hash ${t.key} NOT NULL, state ${t.id} NOT NULL,
      ${requester}, channel_id ${t.id} NOT NULL, thread_ts ${t.id} NULL, card_ts ${t.id} NULL,
      detail ${t.json} NOT NULL, created_at ${t.time} NOT NULL, updated_at ${t.time} NOT NULL,
      owner ${t.key} NULL, lease_until ${t.time} NULL, version ${t.int} NOT NULL
      ${inline('operations_state', 'state, created_at')}${inline('operations_target', 'target')}) ${t.table}`,
    index('operations', 'operations_state', 'state, created_at'),
    index('operations', 'operations_target', 'target'),
    `CREATE TABLE IF NOT EXISTS journal (
      seq ${t.seq}, operation_id ${t.id} NOT NULL, step_id ${t.key} NOT NULL, attempt ${t.int} NOT NULL,
      intent ${t.json} NOT NULL, intent_at ${t.time} NOT NULL, status ${t.id} NULL,
      output ${t.json} NULL, saved ${t.json} NULL, reconciled ${t.int} NOT NULL DEFAULT 0, result_at ${t.time} NULL,
      UNIQUE (operation_id, step_id, attempt)) ${t.table}`,
    `CREATE TABLE IF NOT EXISTS approvals (
      id ${t.id} PRIMARY KEY, operation_id ${t.id} NOT NULL, plan_hash ${t.key} NOT NULL,
      kind ${t.id} NOT NULL, purpose ${t.id} NOT NULL, policy ${t.json} NOT NULL, state ${t.id} NOT NULL,
      required ${t.int} NOT NULL, ${requester}, approvers ${t.json} NOT NULL, decided_by ${t.json} NULL,
      reason ${t.text} NULL, created_at ${t.time} NOT NULL, expires_at ${t.time} NOT NULL,
      decided_at ${t.time} NULL, start_by ${t.time} NULL, consumed_at ${t.time} NULL, version ${t.int} NOT NULL
      ${inline('approvals_operation', 'operation_id')}${inline('approvals_state', 'state, expires_at')}) ${t.table}`,
    index('approvals', 'approvals_operation', 'operation_id'),
    index('approvals', 'approvals_state', 'state, expires_at'),
    `CREATE TABLE IF NOT EXISTS locks (
      lock_key ${t.key} PRIMARY KEY, operation_id ${t.id} NOT NULL, ${requester}, acquired_at ${t.time} NOT NULL
      ${inline('locks_operation', 'operation_id')}) ${t.table}`,
    index('locks', 'locks_operation', 'operation_id'),
    `CREATE TABLE IF NOT EXISTS audit (
      seq ${t.seq}, at ${t.time} NOT NULL, actor ${t.key} NOT NULL, kind ${t.key} NOT NULL,
      operation_id ${t.id} NULL, payload ${t.json} NOT NULL
      ${inline('audit_operation', 'operation_id, seq')}) ${t.table}`,
    index('audit', 'audit_operation', 'operation_id, seq'),
    `CREATE TABLE IF NOT EXISTS schedules (
      id ${t.id} PRIMARY KEY, runbook ${t.key} NOT NULL, args ${t.json} NOT NULL, run_at ${t.time} NOT NULL,
      state ${t.id} NOT NULL, ${requester}, channel_id ${t.id} NOT NULL, operation_id ${t.id} NULL,
      created_at ${t.time} NOT NULL, updated_at ${t.time} NOT NULL, version ${t.int} NOT NULL
      ${inline('schedules_due', 'state, run_at')}) ${t.table}`,
    index('schedules', 'schedules_due', 'state, run_at'),
    `CREATE TABLE IF NOT EXISTS deliveries (
      dkey ${t.key} PRIMARY KEY, expires_at ${t.time} NOT NULL
      ${inline('deliveries_expiry', 'expires_at')}) ${t.table}`,
    index('deliveries', 'deliveries_expiry', 'expires_at'),
  ].filter((s) => s !== '');
}

/**
 * The compute watcher's incidents. `incident_key` (cloud, host, Nova's updated_at when first seen
 * down) is unique: one row per downtime. `active_key` is `cloud/host` while the incident is active and
 * NULL afterwards; unique too (NULLs never collide), so two replicas can never both open an incident
 * for one host, even when they read different updated_at values.
 */
function v2(d: 'sqlite' | 'mysql'): string[] {
  const t = ddl(d);
  const index = (name: string, cols: string): string => (d === 'sqlite' ? `CREATE INDEX IF NOT EXISTS ${name} ON incidents (${cols})` : '');
  const inline = (name: string, cols: string): string => (d === 'mysql' ? `, INDEX ${name} (${cols})` : '');
  return [
    `CREATE TABLE IF NOT EXISTS incidents (
      id ${t.id} PRIMARY KEY, cloud ${t.key} NOT NULL, host ${t.key} NOT NULL, svc_binary ${t.key} NOT NULL,
      down_since ${t.id} NOT NULL, state ${t.id} NOT NULL, first_seen_at ${t.time} NOT NULL,
      channel_id ${t.id} NOT NULL, card_ts ${t.id} NULL, owner ${t.key} NULL, lease_until ${t.time} NULL,
      detail ${t.json} NOT NULL, created_at ${t.time} NOT NULL, updated_at ${t.time} NOT NULL,
      resolved_at ${t.time} NULL, version ${t.int} NOT NULL, active_key ${t.key} NULL,
      UNIQUE (cloud, host, down_since), UNIQUE (active_key)
      ${inline('incidents_state', 'state, cloud')}) ${t.table}`,
    index('incidents_state', 'state, cloud'),
  ].filter((s) => s !== '');
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sqlite: v1('sqlite'), mysql: v1('mysql') },
  { version: 2, name: 'watcher incidents', sqlite: v2('sqlite'), mysql: v2('mysql') },
];
