/** The runbooks main.ts registers with the engine (one per file in actions/). */
import type { Runbook } from '../engine/runbook.js';
import type { NodeDeps } from './deps.js';
import { drainRunbook } from './node/drain.js';
import { undrainRunbook } from './node/undrain.js';
import { inspectRunbook } from './instance/inspect.js';

export const RUNBOOKS: readonly Runbook<never, NodeDeps>[] = [drainRunbook, undrainRunbook, inspectRunbook] as unknown as Runbook<never, NodeDeps>[];
