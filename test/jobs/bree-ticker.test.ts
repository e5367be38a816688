/**
 * The ticker with real bree workers: each worker only says "due", the job runs on the main thread
 * (where the store and the engine live), never twice at once, and not after stop().
 */
import { isMainThread } from 'node:worker_threads';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { BreeTicker } from '../../jobs/bree-ticker.js';
import { waitFor } from '../helpers/wait-for.js';

it('runs each job on the main thread at its interval, one run at a time, and stops', async () => {
  let runs = 0;
  let running = 0;
  let overlap = 0;
  const onMain: boolean[] = [];
  let quick = 0;
  const ticker = new BreeTicker(
    [
      {
        name: 'slow',
        intervalMs: 100,
        run: async () => {
          running++;
          overlap = Math.max(overlap, running);
          onMain.push(isMainThread);
          await new Promise((r) => setTimeout(r, 350)); // longer than three ticks
          running--;
          runs++;
        },
      },
      { name: 'quick', intervalMs: 100, run: async () => void quick++ },
    ],
    pino({ level: 'silent' }),
  );
  await ticker.start();
  await waitFor('three runs of the slow job', () => runs >= 3, 20_000);
  expect(ticker.workersStarted).toBe(1); // one clock thread for every job and tick, not a thread a tick
  await ticker.stop();
  const after = [runs, quick];
  await new Promise((r) => setTimeout(r, 400));
  expect([runs, quick]).toEqual(after); // nothing after stop()
  expect(overlap).toBe(1);
  expect(onMain.every(Boolean)).toBe(true);
  expect(quick).toBeGreaterThanOrEqual(3);
});

it('runNow runs a job at once and hands a caller the run already in progress; a failing job is logged, not thrown', async () => {
  let n = 0;
  const errors: unknown[] = [];
  const logger = Object.assign(pino({ level: 'silent' }), { error: (o: unknown) => void errors.push(o) });
  const ticker = new BreeTicker(
    [
      { name: 'count', intervalMs: 60_000, run: async () => void (await new Promise((r) => setTimeout(r, 50)), n++) },
      { name: 'broken', intervalMs: 60_000, run: async () => Promise.reject(new Error('boom')) },
    ],
    logger,
  );
  await Promise.all([ticker.runNow('count'), ticker.runNow('count')]);
  expect(n).toBe(1);
  await expect(ticker.runNow('broken')).resolves.toBeUndefined();
  expect(errors).toHaveLength(1);
  await ticker.stop();
});

it('a clock thread that ends by itself is started again; the jobs go on', async () => {
  let n = 0;
  const ticker = new BreeTicker([{ name: 'count', intervalMs: 50, run: async () => void n++ }], pino({ level: 'silent' }));
  await ticker.start();
  await waitFor('a first run', () => n >= 1, 10_000);
  const bree = (ticker as unknown as { bree: { workers: Map<string, { terminate(): Promise<number> }> } }).bree;
  await bree.workers.get('clock')!.terminate();
  const at = n;
  await waitFor('runs after the clock was started again', () => n >= at + 3, 10_000);
  expect(ticker.workersStarted).toBe(2);
  await ticker.stop();
});
