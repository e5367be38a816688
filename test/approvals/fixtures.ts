/** Shared set-up for the approvals tests: people, groups, a config and a store on an injected clock. */
import { ManualClock } from '../../core/clock.js';
import type { Effect, Requester } from '../../core/types.js';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema, type ApprovalsConfigInput } from '../../approvals/approvals-config.js';
import type { GroupResolver } from '../../approvals/group-resolver.js';
import type { Store } from '../../store/store.js';

const person = (userId: string, teamId = 'T0000001'): Requester => ({ userId, teamId, userName: userId.toLowerCase() });
export const ops = { alice: person('UALICE'), bob: person('UBOB'), carol: person('UCAROL'), dave: person('UDAVE') };
export const lead = person('ULEAD');
export const privacy = { pia: person('UPIA'), pat: person('UPAT') };
export const oncall = person('UONCALL');
export const stranger = person('USTRANGER');
export const CHANNEL = 'C0OPS0001';

/** Group tables the tests can change between calls (membership is read at click time). */
export function groupTable(): Record<string, string[]> {
  return {
    S0OPS: [ops.alice.userId, ops.bob.userId, ops.carol.userId, ops.dave.userId, oncall.userId],
    S0LEADS: [lead.userId, ops.bob.userId, ops.carol.userId, ops.dave.userId],
    S0PRIVACY: [privacy.pia.userId, privacy.pat.userId],
    S0ONCALL: [oncall.userId],
  };
}

export function resolverOver(table: Record<string, string[]>, calls: string[] = []): GroupResolver {
  return {
    async members(g) {
      calls.push(g);
      const m = table[g];
      if (!m) throw new Error(`usergroups.users.list: no_such_subteam ${g}`);
      return m;
    },
  };
}

export const baseConfig: ApprovalsConfigInput = {
  default: {
    requesters: { groups: ['S0OPS'] },
    approvers: { groups: ['S0LEADS'] },
  },
  runbooks: {
    'node.evacuate': { approvals: 2, pendingTtl: '1h', startWindow: '15m' },
    'node.drain': { requesters: { groups: ['S0OPS'], channels: [CHANNEL] } },
  },
  userData: { approvers: { groups: ['S0PRIVACY'] } },
  breakGlass: { groups: ['S0ONCALL'] },
};

export function approvalsOn(store: Store, config: ApprovalsConfigInput = baseConfig, table = groupTable()): Approvals {
  return new Approvals({ store, config: approvalsConfigSchema.parse(config), groups: resolverOver(table) });
}

let n = 0;
/** An operation row to hang requests on, with a fresh plan hash. */
export async function newOperation(store: Store, runbook = 'node.drain', risk: Effect = 'change', requester: Requester = ops.alice) {
  const hash = `hash-${++n}-${Math.random().toString(36).slice(2)}`;
  const operation = await store.createOperation({ runbook, target: 'c01', plan: { runbook }, planHash: hash, requester, channelId: CHANNEL });
  return { operation, plan: { runbook, risk, args: {} as Record<string, unknown> } };
}

export const start = () => new ManualClock(Date.UTC(2026, 10, 25, 9));
