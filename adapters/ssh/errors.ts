/**
 * The SSH adapter's errors. Three kinds, because an operator acts differently on each:
 * - HostKeyError: the node is not the one we think (unknown or changed key): check the node, then
 *   update known_hosts by hand; the bot never does that itself.
 * - SshError: no usable connection (refused, DNS, handshake timeout, auth, link dead).
 * - RemoteCommandError: the command ran (or was started) and failed, timed out or was cut off.
 */
import { ChatOpsError } from '../../core/errors.js';

/** Last `max` characters of a text, prefixed with an ellipsis when cut. */
export function tail(text: string, max = 2000): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

/** The server's host key is unknown, changed or revoked: the connection was refused before auth. */
export class HostKeyError extends ChatOpsError {
  constructor(
    readonly host: string,
    readonly reason: 'unknown' | 'changed' | 'revoked',
    details: { port: number; keyType: string; fingerprint: string; knownHostsFiles: readonly string[]; via?: string; knownAt?: string },
  ) {
    const what =
      reason === 'unknown'
        ? `no ${details.keyType} host key for ${host} is in known_hosts`
        : reason === 'changed'
          ? `the ${details.keyType} host key of ${host} does not match the one in known_hosts (it changed, or someone is in between)`
          : `the host key of ${host} is marked @revoked in known_hosts`;
    super(
      'HOST_KEY_REJECTED',
      `refused ${host}:${details.port}: ${what}; presented ${details.fingerprint}. ` +
        `Verify the key out of band and add it to ${details.knownHostsFiles[0] ?? 'known_hosts'}; the bot never trusts on first use.`,
      { details: { host, reason, ...details } },
    );
  }
}

/** The connection could not be made or was lost (not a host key problem). */
export class SshError extends ChatOpsError {
  constructor(
    readonly host: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super('SSH_FAILED', `ssh ${host}: ${message}`, { cause: options.cause, details: { host, ...(options.details ?? {}) } });
  }
}

/** Fields of a failed remote command, as the thread reporter shows them. */
export interface RemoteCommandFailure {
  host: string;
  /** The human-readable command, e.g. `sudo systemctl stop nova-compute`. */
  command: string;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  durationMs: number;
  timedOut: boolean;
}

/** A remote command exited non-zero (and not allowed), was killed by a signal, timed out or lost its link. */
export class RemoteCommandError extends ChatOpsError {
  readonly failure: RemoteCommandFailure;
  constructor(failure: RemoteCommandFailure, why: string, cause?: unknown) {
    super('REMOTE_COMMAND_FAILED', `${failure.host}: \`${failure.command}\` ${why} after ${failure.durationMs} ms`, {
      cause,
      details: { ...failure },
    });
    this.failure = failure;
  }
}
