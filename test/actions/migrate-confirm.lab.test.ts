/**
 * A cold migration whose confirmation is already under way (a bot killed right after sending it, in
 * the kill -9 test) is waited for, not confirmed a second time: Nova refuses a second confirmation
 * with 400 "Instance has not been resized", which once failed a whole drain.
 *
 * Made deterministic on the real lab: with c01's nova-compute stopped, the confirmation of a server
 * moved c01 → c02 stays "confirming" (its RPC waits in c01's queue) while moveInstance runs; c01 is
 * started again a few seconds later and the confirmation completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveInstance } from '../../actions/steps/migrate-instances.js';
import { bootServer, cleanup, osJson, osOk, requireLab, restoreHost, sshHost, uniquePrefix, waitFor, waitServer } from '../lab/lab-helpers.js';
import { holdLabHost, startLabBot, type LabBot } from './lab-bot.js';

type Row = Record<string, string>;

describe('moveInstance meets a confirmation in flight', () => {
  let lab: LabBot | undefined;
  let lock: { release(): void } | undefined;
  let prefix = '';

  beforeAll(async () => {
    await requireLab();
    lock = await holdLabHost('c01');
    prefix = uniquePrefix('confirm');
    await restoreHost('c01');
    lab = await startLabBot({ transport: 'http', backend: 'rest' });
  }, 600_000);

  afterAll(async () => {
    await lab?.close();
    await restoreHost('c01');
    if (prefix) await cleanup(prefix);
    lock?.release();
  }, 600_000);

  it('waits for it instead of confirming again, and reports the move', async () => {
    const id = await bootServer(`${prefix}vm`, 'c01');
    await osOk(['server', 'stop', id]);
    await waitServer(id, 'SHUTOFF');
    await osOk(['server', 'migrate', '--host', 'c02', id]);
    await waitServer(id, 'VERIFY_RESIZE', 'c02');
    expect((await sshHost('c01', 'lab-nova-compute stop')).exitCode).toBe(0);
    await osOk(['server', 'resize', 'confirm', id]);
    const statusOf = async () => (await osJson<Row[]>(['server', 'migration', 'list', '--server', id]))[0]?.['Status'];
    expect(await statusOf()).toBe('confirming');

    // The real cloud, with its calls counted: what moveInstance asks Nova is what this test checks.
    const calls: string[] = [];
    const real = lab!.deps.node!.cloud;
    const cloud = new Proxy(real, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(key));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const cd = { ...lab!.deps.node!, cloud };
    const ctl = new AbortController();
    const move = moveInstance(
      cd,
      { id, name: `${prefix}vm`, status: 'SHUTOFF', kind: 'cold' },
      { source: 'c01', dest: 'c02', blockMigration: 'auto', signal: ctl.signal, beforeStart: async () => undefined },
    );
    let failed: unknown;
    let settled = false;
    move.then(
      () => (settled = true),
      (e: unknown) => ((failed = e), (settled = true)),
    );
    // Several polls that found the confirmation under way (before the fix: a second confirmation and its 400).
    await waitFor('moveInstance to see the confirmation under way three times', () => settled || calls.filter((k) => k === 'listMigrations').length >= 3, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(failed).toBeUndefined();
    expect(settled).toBe(false); // still waiting: c01 holds the confirmation
    expect(calls).not.toContain('confirmResize');
    expect(await statusOf()).toBe('confirming');
    expect((await sshHost('c01', 'lab-nova-compute start')).exitCode).toBe(0);
    const moved = await move;
    expect(moved).toMatchObject({ id, from: 'c01', to: 'c02', result: 'moved' });
    await waitFor('the confirmation to complete', async () => (await statusOf()) === 'confirmed', { timeoutMs: 120_000, intervalMs: 2000 });
    await waitServer(id, 'SHUTOFF', 'c02');
  }, 600_000);
});
