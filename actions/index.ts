/** The runbooks main.ts registers with the engine (one per file in actions/). */
import type { Runbook } from '../engine/runbook.js';
import type { NodeDeps } from './deps.js';
import { drainRunbook } from './node/drain.js';
import { checkRunbook } from './node/check.js';
import { evacuateRunbook } from './node/evacuate.js';
import { undrainRunbook } from './node/undrain.js';
import { reattachRunbook } from './volume/reattach.js';

export const RUNBOOKS: readonly Runbook<never, NodeDeps>[] = [drainRunbook, undrainRunbook, evacuateRunbook, checkRunbook, reattachRunbook] as unknown as Runbook<never, NodeDeps>[];
