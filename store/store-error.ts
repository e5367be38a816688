import { ChatOpsError } from '../core/errors.js';

/** The store could not read or write (database down, schema too new, constraint broken). */
export class StoreError extends ChatOpsError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('STORE_FAILED', message, options);
  }
}
