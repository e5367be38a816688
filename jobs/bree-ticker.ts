/**
 * bree keeps the bot's periodic jobs (schedule sweep, watcher, approval expiry, lease
 * reconciliation). bree runs every job in a worker thread; the store, the engine and the Slack
 * client live on the main thread and cannot be shared with a worker. So the worker only says which
 * job is due (a few lines, no imports), and the job itself runs here, on the main thread, when that
 * message arrives. A job still running when its next tick comes is not started twice.
 *
 * One bree job, the clock, whose one worker lives as long as the ticker and keeps every job's
 * interval: a bree job with an interval starts a new worker thread at each tick (a V8 isolate,
 * ~50 ms of CPU measured here), one every ~3 s with the bot's four jobs — about half an hour of CPU
 * a day for nothing, and a pause in the acknowledgements each time. A clock that ends other than by
 * stop() is started again.
 */
import Bree from 'bree';
import type { Logger } from 'pino';

/** One periodic job: its name, how often, and what it does (on the main thread). */
export interface PeriodicJob {
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

const CLOCK = 'clock';

/** The clock's worker: `due:<job>` at each job's interval, until bree's 'cancel'. */
function clockWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const jobs = (workerData as { intervals: [string, number][] }).intervals;
  const timers = jobs.map(([name, ms]) => setInterval(() => parentPort?.postMessage(`due:${name}`), ms));
  parentPort?.on('message', (m: unknown) => {
    if (m !== 'cancel') return;
    timers.forEach(clearInterval);
    parentPort.postMessage('cancelled');
    parentPort.close();
  });
}

export class BreeTicker {
  private readonly bree: Bree;
  private readonly jobs: Map<string, PeriodicJob>;
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;
  /** Worker threads started so far (one, unless the clock had to be started again). */
  workersStarted = 0;

  constructor(
    jobs: readonly PeriodicJob[],
    private readonly logger: Pick<Logger, 'debug' | 'warn' | 'error'>,
  ) {
    this.jobs = new Map(jobs.map((j) => [j.name, j]));
    const quiet = {
      info: () => undefined,
      warn: (...a: unknown[]) => logger.debug({ bree: a.map(String) }, 'bree'),
      error: (...a: unknown[]) => logger.warn({ bree: a.map(String) }, 'bree'),
    };
    this.bree = new Bree({
      root: false,
      doRootCheck: false,
      logger: quiet,
      jobs: [{ name: CLOCK, path: clockWorker, worker: { workerData: { intervals: jobs.map((j) => [j.name, j.intervalMs]) } } }],
      workerMessageHandler: ({ message }: { name: string; message: unknown }) => {
        if (typeof message === 'string' && message.startsWith('due:')) void this.runNow(message.slice(4));
      },
      errorHandler: (err: unknown, meta: unknown) => logger.warn({ err, meta }, 'bree job worker failed'),
    } as unknown as Bree.BreeOptions);
  }

  async start(): Promise<void> {
    if (this.stopped) return; // shut down before the start-up work finished
    this.bree.on('worker created', () => this.workersStarted++);
    this.bree.on('worker deleted', () => {
      if (this.stopped) return;
      this.logger.warn({ job: CLOCK }, 'the jobs clock ended; starting it again');
      setTimeout(() => void (this.stopped ? undefined : this.bree.run(CLOCK)), 1000).unref();
    });
    await this.bree.start();
  }

  /**
   * Runs a job now (also what each tick does). Resolves when it ends; if it is already running, with
   * that run. A failure is logged, never thrown: the next tick tries again.
   */
  runNow(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job || this.stopped) return Promise.resolve();
    const current = this.running.get(name);
    if (current) return current;
    const run = job
      .run()
      .catch((err: unknown) => this.logger.error({ err, job: name }, 'periodic job failed'))
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  /** No more ticks; waits for the jobs running now. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.bree.stop();
    await Promise.allSettled([...this.running.values()]);
  }
}
