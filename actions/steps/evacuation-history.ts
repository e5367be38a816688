/**
 * The evacuations that left a host, read back from the bot's own journal: undrain keeps a host
 * whose instances were evacuated forced down and disabled until its guests are provably gone
 * (two hosts running one shared disk corrupt it).
 */
import type { Store } from '../../store/store.js';

/** One `node.evacuate` of a host, as its plan and journal tell it. */
export interface EvacuationRecord {
  opId: string;
  state: string;
  method: 'api' | 'db';
  to: string;
  /** The instances the plan moved (id, name). */
  instances: { id: string; name: string }[];
  /** Steps that completed (ok or skipped because already done). */
  completedSteps: string[];
}

export interface EvacuationHistory {
  /** Evacuations off `host`, newest first (at most 20). */
  evacuationsFrom(host: string): Promise<EvacuationRecord[]>;
}

export function storeEvacuationHistory(store: Pick<Store, 'listOperations' | 'listJournal'>): EvacuationHistory {
  return {
    async evacuationsFrom(host) {
      const ops = await store.listOperations({
        runbook: 'node.evacuate',
        target: host,
        states: ['approved', 'running', 'paused', 'in_doubt', 'succeeded', 'failed', 'aborted'],
        limit: 20,
      });
      const out: EvacuationRecord[] = [];
      for (const op of ops) {
        const args = op.plan.args as { method?: 'api' | 'db'; to?: string };
        const resolved = op.plan.resolved as { instances?: { id: string; name: string }[] };
        const journal = await store.listJournal(op.id);
        const completedSteps = [...new Set(journal.filter((e) => e.status === 'ok' || e.status === 'skipped').map((e) => e.stepId))];
        out.push({
          opId: op.id,
          state: op.state,
          method: args.method ?? 'api',
          to: args.to ?? '?',
          instances: (resolved.instances ?? []).map((i) => ({ id: i.id, name: i.name })),
          completedSteps,
        });
      }
      return out;
    },
  };
}
