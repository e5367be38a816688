/** The SQLite store's file: created with its directory, private to the bot's user, WAL mode, reopened intact. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { MIGRATIONS } from '../../store/migrations.js';
import { openStore } from '../../store/open-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('creates the directory and a file only its owner can read, in WAL mode, that survives a reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-sqlite-'));
  dirs.push(dir);
  const path = join(dir, 'not', 'yet', 'state.db');
  const clock = new ManualClock();
  const s = await openStore({ kind: 'sqlite', path }, clock);
  const op = await s.createOperation({
    runbook: 'node.drain',
    target: 'c01',
    plan: {},
    planHash: 'h',
    requester: { userId: 'U1', teamId: 'T1' },
    channelId: 'C1',
  });
  await s.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const raw = new Database(path, { readonly: true });
  expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
  raw.close();
  const again = await openStore({ kind: 'sqlite', path }, clock);
  expect((await again.getOperation(op.id))?.planHash).toBe('h');
  expect(await again.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
  await again.close();
});
