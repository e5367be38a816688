/**
 * The closed set of errors the bot raises. Every error has a stable `code`, a message written for
 * an operator, optional structured `details` (rendered by bot/, never a stack trace) and `cause`.
 * Folders subclass ChatOpsError; nothing throws bare strings.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'INPUT_INVALID',
  'UNKNOWN_COMMAND',
  'NOT_AUTHORIZED',
  // The bot's own state refuses the request; each code names the situation.
  'SHUTTING_DOWN',
  'OPERATION_NOT_FOUND',
  'OPERATION_CHANGED',
  'OPERATION_RUNNING_ELSEWHERE',
  'NOT_APPROVED',
  'NOT_RESUMABLE',
  'NOT_ABORTABLE',
  'NOT_UNDOABLE',
  'SCHEDULE_NOT_FOUND',
  'NOT_CANCELLABLE',
  'APPROVAL_NOT_FOUND',
  'APPROVAL_DECIDED',
  'APPROVAL_EXPIRED',
  'ALREADY_VOTED',
  'APPROVAL_CHANGED',
  'BUTTON_INVALID',
  'PLAN_DRIFT',
  'LOCK_HELD',
  'REMOTE_COMMAND_FAILED',
  'SSH_FAILED',
  'HOST_KEY_REJECTED',
  'OPENSTACK_API',
  'OPENSTACK_CLI',
  'DB_FAILED',
  'DB_ROWCOUNT_MISMATCH',
  'DB_UNDO_CONFLICT',
  'STORE_FAILED',
  'TIMEOUT',
  'STEP_FAILED',
  'IN_DOUBT',
  'SLACK_API',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class ChatOpsError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** One bad field of an input or of the configuration: where, what was wrong, what was expected. */
export interface Problem {
  path: string;
  message: string;
}

/** Configuration that does not validate; lists every bad key at once. */
export class ConfigError extends ChatOpsError {
  readonly problems: readonly Problem[];
  constructor(problems: Problem[], source: string) {
    super('CONFIG_INVALID', `invalid configuration (${source}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`, {
      details: { source },
    });
    this.problems = problems;
  }
}

/** A chat command that does not parse or validate. `usage` is shown back to the user. */
export class InputError extends ChatOpsError {
  readonly problems: readonly Problem[];
  readonly usage: string;
  constructor(problems: Problem[], usage: string) {
    super('INPUT_INVALID', problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '), { details: { usage } });
    this.problems = problems;
    this.usage = usage;
  }
}

export class NotAuthorizedError extends ChatOpsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('NOT_AUTHORIZED', message, { details });
  }
}

export class TimeoutError extends ChatOpsError {
  constructor(what: string, ms: number, details: Record<string, unknown> = {}) {
    super('TIMEOUT', `${what} timed out after ${ms} ms`, { details: { ...details, timeoutMs: ms } });
  }
}

export function isChatOpsError(e: unknown): e is ChatOpsError {
  return e instanceof ChatOpsError;
}
