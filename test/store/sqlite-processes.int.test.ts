/**
 * Two bot processes sharing one SQLite file: each race (claim an operation, decide an approval, take
 * a lock, see a delivery) has exactly one winner across both processes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../../store/open-store.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'chatops-sqlite-procs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('exactly one winner per race across two processes', async () => {
  const path = join(dir, 'state.db');
  const store = await openStore({ kind: 'sqlite', path });
  const alice = { userId: 'UALICE', teamId: 'T1' };
  const op = await store.createOperation({ runbook: 'node.drain', target: 'c01', plan: {}, planHash: 'h', requester: alice, channelId: 'C1' });
  const ap = await store.createApproval({
    operationId: op.id,
    planHash: 'h',
    kind: 'change',
    policy: {},
    required: 1,
    requester: alice,
    expiresAt: Date.now() + 60_000,
  });
  await store.close();
  const worker = join(import.meta.dirname, 'fixtures', 'race-worker.ts');
  const run = (label: string) => execa('node', ['--import', 'tsx', worker, path, op.id, ap.id, 'host:c01', label, '200', dir], { cwd: process.cwd() });
  const procs = [run('a'), run('b')];
  // Both processes open the store first, then race from the same moment.
  await waitFor('both processes ready', () => existsSync(join(dir, 'ready-a')) && existsSync(join(dir, 'ready-b')), 30_000);
  writeFileSync(join(dir, 'go'), '');
  const wins = (await Promise.all(procs)).map((o) => JSON.parse(o.stdout) as Record<'claim' | 'decide' | 'lock' | 'seen', number>);
  for (const race of ['decide', 'lock', 'seen'] as const) expect(wins[0]![race] + wins[1]![race], race).toBe(1);
  // Claims: the first claimant's label owns it for the lease; each claim carries a new owner name
  // (label-i), so exactly one claim succeeds in all.
  expect(wins[0]!.claim + wins[1]!.claim).toBe(1);
}, 60_000);
