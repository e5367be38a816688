/**
 * Which operations' exports are answered privately: an approval of the user-data class, or a runbook
 * that reads user data by its nature (instance.inspect) even where no user-data class is configured
 * and a `change` approval let it run.
 */
import { describe, expect, it } from 'vitest';
import { isUserDataOperation } from '../../../bot/render/op-export.js';
import type { OperationReport } from '../../../engine/operation-records.js';

const report = (runbook: string, kinds: ('change' | 'user_data')[]) =>
  ({ operation: { runbook }, journal: [], audit: [], approvals: kinds.map((kind) => ({ kind })) }) as unknown as OperationReport;

describe('isUserDataOperation', () => {
  it('is true for an approval of the user-data class, whatever the runbook', () => {
    expect(isUserDataOperation(report('console.read', ['user_data']))).toBe(true);
  });
  it('is true for instance.inspect approved as a change (no user-data class configured), or not approved at all', () => {
    expect(isUserDataOperation(report('instance.inspect', ['change']))).toBe(true);
    expect(isUserDataOperation(report('instance.inspect', []))).toBe(true);
  });
  it('is false for a drain', () => {
    expect(isUserDataOperation(report('node.drain', ['change']))).toBe(false);
  });
});
