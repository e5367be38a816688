/**
 * The port the CLI backend runs commands through: locally with execa (argv, no shell), or on a
 * bastion through the SSH adapter (which implements the same interface and runs the same argv).
 */
import { execa } from 'execa';

export interface CommandResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The command was killed at its deadline. */
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  /** Extra environment; a remote runner passes it as `env K=V …` or refuses. */
  env?: Record<string, string>;
}

/** Runs one argv and reports how it ended; never throws for a non-zero exit. */
export interface CommandRunner {
  /** "local" or the bastion's name, for messages. */
  readonly where: string;
  run(argv: readonly string[], opts: RunOptions): Promise<CommandResult>;
}

/** Runs commands on this machine through execa. */
export class LocalCommandRunner implements CommandRunner {
  readonly where = 'local';

  constructor(private readonly baseEnv: Record<string, string | undefined> = process.env) {}

  async run(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error('empty argv');
    const started = performance.now();
    const r = await execa(file, args, {
      reject: false,
      timeout: opts.timeoutMs,
      env: { ...this.baseEnv, ...opts.env },
      extendEnv: false,
      stdin: 'ignore',
      maxBuffer: 32 * 1024 * 1024,
      forceKillAfterDelay: 2_000,
    });
    return {
      exitCode: r.exitCode,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? (r.failed && !r.exitCode ? r.message : '')),
      timedOut: r.timedOut,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
