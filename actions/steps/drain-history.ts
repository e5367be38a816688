/**
 * Where the instances of a drained host went, read back from the bot's own journal: the newest
 * `node.drain` of the host whose migrations ran, merged over all its migrate steps (a drain that
 * failed half-way still says where the instances it moved went). Undrain's migrate-back uses it.
 */
import type { Store } from '../../store/store.js';
import type { MoveResult } from './move-result.js';

export interface DrainRecord {
  opId: string;
  at: number;
  instances: MoveResult[];
}

/** Reads drain records; injected through the deps so runbooks never hold the store itself. */
export interface DrainHistory {
  lastDrain(host: string): Promise<DrainRecord | undefined>;
  /** A drain of the host that is approved, running, paused or in doubt (its journal is still growing). */
  drainUnderWay(host: string): Promise<{ opId: string; state: string } | undefined>;
}

export function storeDrainHistory(store: Pick<Store, 'listOperations' | 'listJournal'>): DrainHistory {
  return {
    async lastDrain(host) {
      const ops = await store.listOperations({
        runbook: 'node.drain',
        target: host,
        states: ['succeeded', 'failed', 'aborted', 'in_doubt', 'running'],
        limit: 20,
      });
      for (const op of ops) {
        const instances: MoveResult[] = [];
        for (const e of await store.listJournal(op.id)) {
          if (!e.stepId.startsWith('migrate') || (e.status !== 'ok' && e.status !== 'skipped')) continue;
          const value = (e.output as { value?: { moved?: (MoveResult | null)[] } } | null)?.value;
          for (const m of value?.moved ?? []) if (m && m.to && m.to !== host) instances.push(m);
        }
        if (instances.length) return { opId: op.id, at: op.createdAt, instances };
      }
      return undefined;
    },
    async drainUnderWay(host) {
      const [op] = await store.listOperations({ runbook: 'node.drain', target: host, states: ['approved', 'running', 'paused', 'in_doubt'], limit: 1 });
      return op ? { opId: op.id, state: op.state } : undefined;
    },
  };
}
