/**
 * The registry: every command of actions/, one line each, in help and manifest order. A runbook or a
 * query is registered with its code; a command whose code is not built yet with its spec only (the
 * bot then answers "not available" and does nothing). The grammar, the help, the Slack manifest, the
 * dispatcher and the engine all read this one list (see docs/architecture.md, "Adding a runbook").
 */
import type { Query } from '../engine/query.js';
import type { Runbook } from '../engine/runbook.js';
import type { CommandSpec } from '../engine/spec/command-spec.js';
import type { NodeDeps } from './deps.js';
import { inspectRunbook } from './instance/inspect.js';
import { ipCheckQuery } from './ip/check.js';
import { detachRunbook } from './ip/detach.js';
import { portCreateRunbook } from './ip/port-create.js';
import { recoverRunbook } from './ip/recover.js';
import { checkRunbook } from './node/check.js';
import { copyInstancesRunbook } from './node/copy-instances.js';
import { drainRunbook } from './node/drain.js';
import { evacuateRunbook } from './node/evacuate.js';
import { nodeListQuery } from './node/list.js';
import { nodeStatusQuery } from './node/status.js';
import { undrainRunbook } from './node/undrain.js';
import { reattachRunbook } from './volume/reattach.js';

/** The deps every registered runbook and query gets from the composition root (a union as families grow). */
export type ActionDeps = NodeDeps;

/** One command of actions/: its spec, and its runbook or query once built. */
export type Registration =
  | { kind: 'runbook'; spec: CommandSpec; runbook: Runbook<never, ActionDeps> }
  | { kind: 'query'; spec: CommandSpec; query: Query<never, unknown, ActionDeps> }
  | { kind: 'planned'; spec: CommandSpec };

// The casts forget each runbook's own args type: the engine validates args with the runbook's input first.
const runbook = <A>(r: Runbook<A, ActionDeps> & { spec: CommandSpec }): Registration => ({
  kind: 'runbook',
  spec: r.spec,
  runbook: r as unknown as Runbook<never, ActionDeps>,
});
const query = <A, R>(q: Query<A, R, ActionDeps>): Registration => ({ kind: 'query', spec: q.spec, query: q as unknown as Query<never, unknown, ActionDeps> });
// A spec without its code yet is registered as `{ kind: 'planned', spec }` (the bot answers "not available").

export const REGISTRY: readonly Registration[] = [
  runbook(drainRunbook),
  runbook(undrainRunbook),
  runbook(checkRunbook),
  runbook(evacuateRunbook),
  runbook(copyInstancesRunbook),
  query(nodeStatusQuery),
  query(nodeListQuery),
  runbook(inspectRunbook),
  runbook(reattachRunbook),
  runbook(portCreateRunbook),
  runbook(detachRunbook),
  query(ipCheckQuery),
  runbook(recoverRunbook),
];

/** Every command spec of actions/, in registry order. */
export const ACTION_SPECS: readonly CommandSpec[] = REGISTRY.map((r) => r.spec);

/** The runbooks the engine runs. */
export const RUNBOOKS: readonly Runbook<never, ActionDeps>[] = REGISTRY.flatMap((r) => (r.kind === 'runbook' ? [r.runbook] : []));

/** The read-only queries the dispatcher answers, by command name. */
export const QUERIES: ReadonlyMap<string, Query<never, unknown, ActionDeps>> = new Map(
  REGISTRY.flatMap((r) => (r.kind === 'query' ? [[r.spec.name, r.query] as const] : [])),
);
