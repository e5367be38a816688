/**
 * Runs one command line on an open connection's session channel: output capped per stream, a
 * timeout that kills the channel, and a failure for a non-allowed exit status, a signal, or a link
 * that died while the command ran (its outcome is then unknown).
 */
import type { Client, ClientChannel } from 'ssh2';
import { CappedOutput } from './capped-output.js';
import { RemoteCommandError, SshError, tail } from './errors.js';

/** What a finished command returns. */
export interface RemoteResult {
  exitCode: number | null;
  signal: string | null;
  /** Output text; when cut, ends (stdout) or starts (stderr) with a visible truncation mark. */
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** Bytes the command printed, including those not kept. */
  stdoutBytes: number;
  stderrBytes: number;
  durationMs: number;
}

/** Run `what.line`; `running` holds a callback that fails it if the link dies. */
export function runOnChannel(
  client: Client,
  running: Set<(e: Error) => void>,
  what: { host: string; line: string; display: string },
  limits: { timeoutMs: number; okExitCodes: readonly number[]; maxOutputBytes: number },
  /** Called once the channel is open (a pipe writes the reader's stdin through it). */
  onOpenChannel?: (ch: ClientChannel) => void,
  /** Takes stdout instead of collecting it (a pipe's writer end). */
  onStdout?: (b: Buffer) => void,
): Promise<RemoteResult> {
  const { host, line, display } = what;
  const { timeoutMs, okExitCodes: ok, maxOutputBytes: max } = limits;
  const out = new CappedOutput(max, 'head');
  const err = new CappedOutput(max, 'tail');
  const started = performance.now();
  return new Promise<RemoteResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let exitCode: number | null = null;
    let signal: string | null = null;
    let done = false;
    const failure = (timedOut: boolean) => ({
      host,
      command: display,
      exitCode,
      signal,
      stderrTail: tail(err.text()),
      durationMs: Math.round(performance.now() - started),
      timedOut,
    });
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      running.delete(onLinkDown);
      if (e) return reject(e);
      const res: RemoteResult = {
        exitCode,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
        stdoutBytes: out.totalBytes,
        stderrBytes: err.totalBytes,
        durationMs: Math.round(performance.now() - started),
      };
      if (signal !== null) reject(new RemoteCommandError(failure(false), `was killed by signal ${signal}`));
      else if (exitCode === null) reject(new RemoteCommandError(failure(false), 'ended without an exit status'));
      else if (!ok.includes(exitCode)) reject(new RemoteCommandError(failure(false), `exited with status ${exitCode}`));
      else resolve(res);
    };
    const timer = setTimeout(() => {
      try {
        channel?.signal('KILL');
        channel?.close();
      } catch {
        /* the channel may already be gone */
      }
      finish(new RemoteCommandError(failure(true), `timed out (limit ${timeoutMs} ms) and was killed`));
    }, timeoutMs);
    const onLinkDown = (e: Error) =>
      finish(
        new SshError(host, `connection lost while \`${display}\` was running; its outcome is unknown`, {
          cause: e,
          details: { command: display, outcome: 'unknown', durationMs: Math.round(performance.now() - started) },
        }),
      );
    running.add(onLinkDown);
    const notOpened = (e: Error, linkGone: boolean) => {
      done = true;
      clearTimeout(timer);
      running.delete(onLinkDown);
      reject(new ChannelOpenError(e, linkGone));
    };
    const onOpen = (e: Error | undefined, ch: ClientChannel) => {
      if (e) return notOpened(e, false);
      if (done) {
        // Timed out while the channel was opening: the command may have started; stop it.
        ch.signal('KILL');
        return void ch.close();
      }
      channel = ch;
      ch.on('data', onStdout ?? ((b: Buffer) => out.push(b)));
      onOpenChannel?.(ch);
      ch.stderr.on('data', (b: Buffer) => err.push(b));
      ch.on('exit', (code: number | null, sig?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        signal = sig ?? null;
      });
      ch.on('close', () => finish());
    };
    try {
      client.exec(line, onOpen);
    } catch (e) {
      // ssh2 throws "Not connected" when the socket is gone but 'close' has not been seen yet.
      notOpened(e as Error, true);
    }
  });
}

/** The session channel could not be opened: the command did not start (safe to try again). */
export class ChannelOpenError extends Error {
  constructor(
    cause: Error,
    /** The connection itself is gone (rather than the server refusing one more session). */
    readonly linkGone: boolean,
  ) {
    super(cause.message, { cause });
  }
}
