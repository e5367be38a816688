/**
 * Errors of the OpenStack adapter. Each carries what an operator needs to look the call up in the
 * service logs: method, URL, status, the OpenStack request id and the API's own message.
 */
import { ChatOpsError } from '../../core/errors.js';

/**
 * What is known about the effect of a failed call:
 * - `rejected`: the service answered with an error; it did nothing.
 * - `not-sent`: the request never reached the service (connection refused, DNS); nothing happened.
 * - `unknown`: a write was sent but no answer came (timeout, connection lost). It may or may not
 *   have taken effect; read the state back before deciding anything. Never re-send it blindly.
 */
export type CallOutcome = 'rejected' | 'not-sent' | 'unknown';

export interface OpenStackApiErrorFields {
  method: string;
  url: string;
  status?: number;
  requestId?: string;
  /** The message the API itself returned (Nova badRequest, NeutronError, Keystone error…). */
  apiMessage?: string;
  /** Neutron's error type (e.g. IpAddressAlreadyAllocated) or Nova's top-level key (badRequest). */
  apiType?: string;
  outcome: CallOutcome;
  attempts?: number;
}

/** A REST call to an OpenStack API failed. */
export class OpenStackApiError extends ChatOpsError {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly apiMessage: string | undefined;
  readonly apiType: string | undefined;
  readonly outcome: CallOutcome;

  constructor(summary: string, f: OpenStackApiErrorFields, cause?: unknown) {
    const parts = [`${f.method} ${f.url}`];
    if (f.status !== undefined) parts.push(`HTTP ${f.status}`);
    if (f.apiMessage) parts.push(f.apiMessage);
    if (f.requestId) parts.push(`request id ${f.requestId}`);
    if (f.outcome === 'unknown') parts.push('outcome unknown: read the state back before retrying');
    super('OPENSTACK_API', `${summary}: ${parts.join('; ')}`, { cause, details: { ...f } });
    this.method = f.method;
    this.url = f.url;
    this.status = f.status;
    this.requestId = f.requestId;
    this.apiMessage = f.apiMessage;
    this.apiType = f.apiType;
    this.outcome = f.outcome;
  }
}

export interface OpenStackCliErrorFields {
  argv: readonly string[];
  exitCode?: number;
  stderrTail: string;
  durationMs: number;
  outcome: CallOutcome;
  /** Where it ran: "local" or the bastion's name. */
  where: string;
}

/** An `openstack` CLI invocation failed (non-zero exit, unparsable output, timeout). */
export class OpenStackCliError extends ChatOpsError {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderrTail: string;
  readonly outcome: CallOutcome;

  constructor(summary: string, f: OpenStackCliErrorFields, cause?: unknown) {
    const exit = f.exitCode === undefined ? 'no exit code' : `exit ${f.exitCode}`;
    super('OPENSTACK_CLI', `${summary}: ${f.argv.join(' ')} (${f.where}, ${exit}, ${f.durationMs} ms)${f.stderrTail ? `: ${f.stderrTail}` : ''}`, {
      cause,
      details: { ...f, argv: [...f.argv] },
    });
    this.argv = f.argv;
    this.exitCode = f.exitCode;
    this.stderrTail = f.stderrTail;
    this.outcome = f.outcome;
  }
}

/** Last `max` characters of a text, marked when cut. */
export function tail(text: string, max = 2000): string {
  const t = text.trim();
  return t.length <= max ? t : `…${t.slice(-max)}`;
}
