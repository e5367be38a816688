/**
 * How a thrown error becomes a StepFailure (command, exit status, output tail) for the journal and
 * the thread, and how a step is bounded in time. Adapter errors carry these fields in `details`
 * (RemoteCommandError: argv, exitCode, stderrTail…); anything else is reported by its message.
 */
import { isChatOpsError, TimeoutError } from '../core/errors.js';
import type { StepFailure } from './reporter.js';

const TAIL_CHARS = 2000;

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(' ');
  return undefined;
}

/** The failure as an operator needs it; never includes a stack trace. */
export function failureOf(err: unknown): StepFailure {
  if (!isChatOpsError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return { message, code: 'STEP_FAILED' };
  }
  const d = err.details as Record<string, unknown>;
  const f: StepFailure = { message: err.message, code: err.code };
  const command = str(d.command) ?? str(d.argv) ?? str(d.sql);
  if (command) f.command = command;
  const exit = d.exitCode ?? d.exitStatus;
  if (typeof exit === 'number' || exit === null) f.exitStatus = exit;
  const tail = str(d.outputTail) ?? str(d.stderrTail) ?? str(d.stdoutTail) ?? str(d.stderr);
  if (tail) f.outputTail = tail.length > TAIL_CHARS ? tail.slice(-TAIL_CHARS) : tail;
  return f;
}

/** A failure as JSON for the journal. */
export function failureJson(f: StepFailure): Record<string, string | number | null> {
  const o: Record<string, string | number | null> = { message: f.message };
  if (f.code !== undefined) o.code = f.code;
  if (f.command !== undefined) o.command = f.command;
  if (f.exitStatus !== undefined) o.exitStatus = f.exitStatus;
  if (f.outputTail !== undefined) o.outputTail = f.outputTail;
  return o;
}

/** A failure read back from the journal (what `failureJson` wrote). */
export function failureFromJson(o: Record<string, unknown> | null): StepFailure {
  const f = o ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const exit = f.exitStatus;
  return {
    message: str(f.message) ?? 'failed',
    ...(str(f.code) !== undefined ? { code: str(f.code)! } : {}),
    ...(str(f.command) !== undefined ? { command: str(f.command)! } : {}),
    ...(typeof exit === 'number' || exit === null ? { exitStatus: exit } : {}),
    ...(str(f.outputTail) !== undefined ? { outputTail: str(f.outputTail)! } : {}),
  };
}

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or after `ms`; rejects with TimeoutError
 * at the deadline even if `fn` ignores its signal (a hung step must not hang the runner).
 */
export async function bounded<T>(what: string, ms: number, parent: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(parent.reason);
  if (parent.aborted) ctl.abort(parent.reason);
  else parent.addEventListener('abort', onParent, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new TimeoutError(what, ms);
      ctl.abort(e);
      reject(e);
    }, ms);
  });
  try {
    return await Promise.race([fn(ctl.signal), deadline]);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParent);
  }
}
