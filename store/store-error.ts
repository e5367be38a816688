import { ChatOpsError } from '../core/errors.js';

/** The store could not read or write (database down, schema too new, constraint broken). */
export class StoreError extends ChatOpsError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('STORE_FAILED', message, options);
  }
}

/** A fenced write was refused: `owner` no longer holds the operation's lease (another replica may). */
export class LeaseLostError extends StoreError {
  constructor(operationId: string, owner: string, stepId: string) {
    super(`${owner} no longer holds the lease on ${operationId}; step ${stepId} was not started`, {
      details: { operationId, owner, stepId, reason: 'lease-lost' },
    });
  }
}
