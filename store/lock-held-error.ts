import { ChatOpsError } from '../core/errors.js';
import type { LockRecord } from './store.js';

/** Refusal to start because another operation holds the lock; names who holds it. */
export class LockHeldError extends ChatOpsError {
  readonly heldBy: LockRecord;
  constructor(heldBy: LockRecord) {
    const who = heldBy.requester.userName ?? `<@${heldBy.requester.userId}>`;
    super(
      'LOCK_HELD',
      `${heldBy.key} is busy: operation ${heldBy.operationId} (requested by ${who}) holds it since ${new Date(heldBy.acquiredAt).toISOString()}`,
      {
        details: { key: heldBy.key, operationId: heldBy.operationId, requester: heldBy.requester, acquiredAt: heldBy.acquiredAt },
      },
    );
    this.heldBy = heldBy;
  }
}
