/**
 * An engine on a real store (SQLite file or MariaDB database) with the scratch runbook, for the
 * engine's tests and the crash child process.
 */
import { Engine } from '../../../engine/engine.js';
import { crashPointsFromEnv } from '../../../engine/crash-points.js';
import type { Reporter } from '../../../engine/reporter.js';
import type { Runbook } from '../../../engine/runbook.js';
import type { Command, Requester } from '../../../core/types.js';
import { openStore } from '../../../store/open-store.js';
import type { StoreConfig } from '../../../store/store-config.js';
import type { OperationRecord, Store } from '../../../store/store.js';
import { mysqlScratch, sqliteScratch, type Scratch } from '../../fixtures/runbooks/scratch-db.js';
import { peekRunbook, scratchRunbook, type ScratchDeps } from '../../fixtures/runbooks/scratch-runbook.js';
import { testApprovals } from './test-approvals.js';

export const ALICE: Requester = { userId: 'U0ALICE', teamId: 'T0TEAM', userName: 'alice' };
export const BOB: Requester = { userId: 'U0BOB', teamId: 'T0TEAM', userName: 'bob' };

export function scratchCommand(args: Record<string, unknown>, requester: Requester = ALICE, name = 'test.scratch'): Command {
  return { family: 'node', verb: name.split('.')[1]!, name, args, raw: `/test scratch ${JSON.stringify(args)}`, requester, channelId: 'C0OPS0001' };
}

/** Where a test's state lives; serialisable so a child process can open the same. */
export interface FixtureWhere {
  store: StoreConfig;
  /** SQLite file path, or `mysql:<database>`. */
  scratch: string;
}

export interface Fixture {
  store: Store;
  scratch: Scratch;
  engine: Engine<ScratchDeps>;
  close(): Promise<void>;
}

export async function openFixture(
  where: FixtureWhere,
  o: {
    owner?: string;
    reporterFor?: (op: OperationRecord) => Reporter;
    env?: Record<string, string | undefined>;
    stepTimeoutMs?: number;
    leaseMs?: number;
    gate?: ScratchDeps['gate'];
    hangDisabled?: boolean;
  } = {},
): Promise<Fixture> {
  const store = await openStore(where.store);
  const scratch = where.scratch.startsWith('mysql:') ? await mysqlScratch(where.scratch.slice(6)) : sqliteScratch(where.scratch);
  const engine = new Engine<ScratchDeps>({
    store,
    approvals: testApprovals(store),
    runbooks: [scratchRunbook as unknown as Runbook<never, ScratchDeps>, peekRunbook as unknown as Runbook<never, ScratchDeps>],
    deps: { scratch, ...(o.gate ? { gate: o.gate } : {}), ...(o.hangDisabled ? { hangDisabled: true } : {}) },
    owner: o.owner ?? 'replica-a',
    reporterFor: o.reporterFor ?? (() => ({ emit: () => undefined })),
    crash: crashPointsFromEnv(o.env ?? {}),
    ...(o.stepTimeoutMs !== undefined ? { stepTimeoutMs: o.stepTimeoutMs } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  });
  return {
    store,
    scratch,
    engine,
    close: async () => {
      await engine.shutdown(5000);
      await scratch.close();
      await store.close();
    },
  };
}
