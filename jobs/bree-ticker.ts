/**
 * bree keeps the bot's periodic jobs (schedule sweep, watcher, approval expiry, lease
 * reconciliation). bree runs every job in a worker thread; the store, the engine and the Slack
 * client live on the main thread and cannot be shared with a worker. So each job's worker only says
 * "due" (a few lines, no imports) and exits, and the job itself runs here, on the main thread, when
 * that message arrives. A job still running when its next tick comes is not started twice.
 */
import Bree from 'bree';
import type { Logger } from 'pino';

/** One periodic job: its name, how often, and what it does (on the main thread). */
export interface PeriodicJob {
  name: string;
  intervalMs: number;
  run(): Promise<void>;
}

/** The worker of every job: it only tells the main thread that its job is due. */
function dueWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:worker_threads') as typeof import('node:worker_threads')).parentPort?.postMessage('due');
}

export class BreeTicker {
  private readonly bree: Bree;
  private readonly jobs: Map<string, PeriodicJob>;
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

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
      jobs: jobs.map((j) => ({ name: j.name, path: dueWorker, interval: j.intervalMs })),
      workerMessageHandler: ({ name, message }: { name: string; message: unknown }) => {
        if (message === 'due') void this.runNow(name);
      },
      errorHandler: (err: unknown, meta: unknown) => logger.warn({ err, meta }, 'bree job worker failed'),
    } as unknown as Bree.BreeOptions);
  }

  async start(): Promise<void> {
    if (this.stopped) return; // shut down before the start-up work finished
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
