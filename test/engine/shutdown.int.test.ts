/**
 * SIGTERM: no new step starts, the current one ends, state is flushed, the process exits within its
 * bound; a restart continues without repeating anything. A step that hangs past the bound is left
 * in doubt and reconciled by the restarted process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCRATCH_STEPS } from '../fixtures/runbooks/scratch-runbook.js';
import { openFixture, type FixtureWhere } from './helpers/engine-fixture.js';

const CHILD = join(import.meta.dirname, '../fixtures/runbooks/crash-child.ts');
const ALL_ONCE = Object.fromEntries(SCRATCH_STEPS.map((s) => [s.id, 1]));

let dir: string;
let where: FixtureWhere;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
  where = { store: { kind: 'sqlite', path: join(dir, 'state.db') }, scratch: join(dir, 'scratch.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child; sends SIGTERM once `termOn` holds for a line. Resolves with its lines and exit. */
function run(
  env: Record<string, string>,
  termOn?: (line: string) => boolean,
): Promise<{ lines: string[]; code: number | null; signal: string | null; termToExitMs: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, CRASH_FIXTURE: JSON.stringify(where), ...env } });
    const lines: string[] = [];
    let buf = '';
    let termAt = 0;
    const guard = setTimeout(() => p.kill('SIGKILL'), 40_000);
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (termOn && !termAt && termOn(line)) {
          termAt = Date.now();
          p.kill('SIGTERM');
        }
      }
    });
    p.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ lines, code, signal, termToExitMs: termAt ? Date.now() - termAt : -1 });
    });
  });
}

const startOf = (stepId: string) => (line: string) => line.startsWith('EVENT ') && line.includes('"step-started"') && line.includes(`"stepId":"${stepId}"`);

describe('SIGTERM', () => {
  it('lets the current step end, starts no new one, flushes, exits; a restart continues without repeating', async () => {
    const first = await run({ CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c01', slow: 'write-2', slowMs: 1500 }) }, startOf('write-2'));
    expect(first.code).toBe(0);
    expect(first.lines).toContain('SHUTDOWN {"clean":true}');
    const started = first.lines.filter((l) => l.includes('"step-started"')).map((l) => (JSON.parse(l.slice(6)) as { stepId: string }).stepId);
    // SIGTERM came while write-2 ran: it finished, nothing after it started.
    expect(started).toEqual(['write-1', 'write-2']);
    expect(first.lines.some((l) => l.includes('"finished"') && l.includes('"interrupted"'))).toBe(true);
    console.info(`SIGTERM → exit: ${first.termToExitMs} ms (graceful)`);

    let fx = await openFixture(where);
    const [op] = await fx.store.listOperations({});
    expect(op?.state).toBe('running');
    expect(op?.owner).toBeNull();
    expect((await fx.store.listJournal(op!.id)).map((e) => [e.stepId, e.status])).toEqual([
      ['write-1', 'ok'],
      ['write-2', 'ok'],
    ]);
    expect((await fx.store.listLocks()).map((l) => l.operationId)).toEqual([op!.id]);
    await fx.close();

    const second = await run({ CRASH_MODE: 'restart' });
    expect(second.code).toBe(0);
    expect(second.lines.at(-1)).toBe(`RESULT ${JSON.stringify([{ opId: op!.id, end: 'succeeded' }])}`);
    fx = await openFixture(where);
    expect(await fx.scratch.counts(op!.id)).toEqual(ALL_ONCE);
    await fx.close();
  });

  it('a step that hangs past the bound: exit anyway; the restart finds it in doubt and reconciles it', async () => {
    const first = await run({ CRASH_MODE: 'submit', CRASH_ARGS: JSON.stringify({ host: 'c02', hang: 'write-2' }), SHUTDOWN_MS: '500' }, startOf('write-2'));
    expect(first.code).toBe(0);
    expect(first.lines).toContain('SHUTDOWN {"clean":false}');
    console.info(`SIGTERM → exit: ${first.termToExitMs} ms`);
    const second = await run({ CRASH_MODE: 'restart' });
    expect(second.code).toBe(0);
    const fx = await openFixture(where);
    const [op] = await fx.store.listOperations({});
    expect(op?.state).toBe('succeeded');
    expect(await fx.scratch.counts(op!.id)).toEqual(ALL_ONCE);
    expect((await fx.store.listJournal(op!.id)).filter((e) => e.stepId === 'write-2').map((e) => [e.attempt, e.status, e.reconciled])).toEqual([
      [1, 'failed', true],
      [2, 'ok', false],
    ]);
    await fx.close();
  });
});
