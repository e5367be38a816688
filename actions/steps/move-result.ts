// In a file of its own so that drain-history.ts (read through the deps) need not import the migration code.
import type { JsonValue } from '../../engine/runbook.js';

/** What a migrate step returns per instance (and what undrain's migrate-back reads). */
export interface MoveResult {
  id: string;
  name: string;
  from: string;
  to: string | null;
  /** moved: by this run; already: found elsewhere; gone: deleted meanwhile; stayed: the move failed (undrain goes on). */
  result: 'moved' | 'already' | 'gone' | 'stayed';
  ms: number;
  [k: string]: JsonValue;
}
