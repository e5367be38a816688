/** The runbooks main.ts registers with the engine (one per file in actions/). */
import type { Runbook } from './runbook.js';
import type { NodeDeps } from './deps.js';
import { drainRunbook } from './drain.js';
import { undrainRunbook } from './undrain.js';

export const RUNBOOKS: readonly Runbook<never, NodeDeps>[] = [drainRunbook, undrainRunbook] as unknown as Runbook<never, NodeDeps>[];
