/**
 * Drain and undrain planning on pure inputs: a small in-memory cloud (the Cloud interface's read
 * calls over plain arrays; nothing else may be called while planning), and the pure helpers and
 * renderers (instance classification, batching, step ids, origins text, node list paging, Slack limits).
 */
import { describe, expect, it } from 'vitest';
import type { Cloud, ComputeService, Server } from '../../adapters/openstack/cloud.js';
import { nodeCommands } from '../../adapters/ssh.js';
import type { NodeDeps } from '../../actions/deps.js';
import { batchesOf, drainRunbook, migrateStepId } from '../../actions/node/drain.js';
import { originLines } from '../../actions/node/drain-steps.js';
import { moveKindOf, pollDelay, type MoveResult } from '../../actions/steps/migrate-instances.js';
import { pageServices } from '../../actions/node/list.js';
import { finalizePlan } from '../../engine/runbook.js';
import { undrainRunbook } from '../../actions/node/undrain.js';
import { storeDrainHistory } from '../../actions/steps/drain-history.js';
import type { ChatOpsError } from '../../core/errors.js';
import { openStore } from '../../store/open-store.js';
import { renderNodeList, renderNodeStatus } from '../../bot/render/render-node.js';
import { checkBlocks } from '../../slack-standin/block-check.js';
import { systemClock } from '../../core/clock.js';

const svc = (host: string, o: Partial<ComputeService> = {}): ComputeService => ({
  id: `id-${host}`,
  host,
  binary: 'nova-compute',
  status: 'enabled',
  state: 'up',
  disabledReason: null,
  forcedDown: false,
  updatedAt: null,
  ...o,
});
const srv = (n: number, status: string, host = 'c01', taskState: string | null = null): Server => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: `vm-${String(n).padStart(3, '0')}`,
  status,
  taskState,
  host,
});

/** The read calls planning makes, over arrays; any other call fails the test. */
function readOnlyCloud(services: ComputeService[], servers: Server[]): Cloud {
  const reads: Partial<Cloud> = {
    backend: 'rest',
    fallbacks: [],
    getComputeService: async (host) => services.find((s) => s.host === host),
    listComputeServices: async () => services,
    listServersOnHost: async ({ host }) => servers.filter((s) => s.host === host),
    getServer: async (id) => servers.find((s) => s.id === id),
    // undrain reads whether evacuations left the host (none here)
    listMigrations: async () => [],
  };
  return new Proxy(reads as Cloud, {
    get(t, k) {
      if (k in t) return t[k as keyof Cloud];
      if (k === 'then') return undefined;
      throw new Error(`planning called cloud.${String(k)}, which changes or is not needed`);
    },
  });
}

function deps(cloud: Cloud, history?: NodeDeps['history']): NodeDeps {
  return {
    node: {
      name: 'test',
      cloud,
      clock: systemClock,
      sudo: false,
      migrationTimeoutMs: 60_000,
      commands: (h) => nodeCommands({ preset: 'systemd' }, h),
      shell: {
        run: async () => {
          throw new Error('no SSH while planning');
        },
        equivalent: (h, c) => `ssh ${h} ${c.display}`,
        close: async () => undefined,
      },
    },
    ...(history ? { history } : {}),
  };
}

const ctx = { requester: { userId: 'U1', teamId: 'T1' }, now: 0 };
const args = (o: Record<string, unknown> = {}) => drainRunbook.input.parse({ host: 'c01', reason: 'disk swap', ...o });

describe('drain plan', () => {
  const services = [svc('c01'), svc('c02')];
  const servers = [
    srv(1, 'ACTIVE'),
    srv(2, 'SHUTOFF'),
    srv(3, 'ERROR'),
    srv(4, 'PAUSED'),
    srv(5, 'ACTIVE', 'c01', 'rebooting'),
    srv(6, 'ACTIVE', 'c02'),
    srv(7, 'SUSPENDED'),
  ];

  it('moves ACTIVE/PAUSED live and SHUTOFF cold, names the rest with what happens to them, and orders the steps of §1', async () => {
    const draft = await drainRunbook.plan(args(), deps(readOnlyCloud(services, servers)), ctx);
    const ids = draft.steps.map((s) => s.id);
    expect(ids[0]).toBe('disable-service');
    expect(ids[1]).toBe('list-instances');
    // live ones first, then the cold one; one step per instance with parallel=1
    expect(ids.slice(2, 5)).toEqual([`migrate:${srv(1, '').id}`, `migrate:${srv(4, '').id}`, `migrate:${srv(2, '').id}`]);
    expect(ids.slice(5)).toEqual(['check-empty', 'stop-service', 'record-origins']);
    const w = draft.warnings!.join('\n');
    expect(w).toMatch(/vm-002 .* SHUTOFF .*cold-migrated and stays SHUTOFF/);
    expect(w).toMatch(/vm-004 .* PAUSED .*live-migrated/);
    expect(w).toMatch(/vm-003 .* ERROR: Nova cannot migrate it, so it is left on c01/);
    expect(w).toMatch(/vm-005 .* ACTIVE\/rebooting/);
    expect(w).toMatch(/vm-007 .* SUSPENDED/);
    expect(w).toMatch(/stops the drain/);
    expect(w).not.toMatch(/vm-006/); // on c02: not part of this drain
    const eq = draft.steps.flatMap((s) => s.equivalent).join('\n');
    expect(eq).toContain("openstack compute service set --disable --disable-reason 'disk swap' c01 nova-compute");
    expect(eq).toContain(`openstack server migrate --live-migration ${srv(1, '').id}`);
    expect(eq).toContain(`openstack server migrate ${srv(2, '').id}`);
    expect(eq).toContain(`openstack server resize confirm ${srv(2, '').id}`);
    expect(eq).toContain('ssh c01 systemctl stop nova-compute');
  });

  it('runs parallel migrations as a window of one step each, passes to= and mode= into the commands, and hashes the instance set', async () => {
    const many = Array.from({ length: 10 }, (_, i) => srv(i + 1, 'ACTIVE'));
    const d = deps(readOnlyCloud(services, many));
    const draft = await drainRunbook.plan(args({ parallel: 4, to: 'c02', mode: 'block', pinInit: true }), d, ctx);
    const moves = draft.steps.filter((s) => s.id.startsWith('migrate'));
    expect(moves.map((s) => s.id)).toEqual(many.map((s) => `migrate:${s.id}`));
    expect(moves.map((s) => (s as { window?: unknown }).window)).toEqual(many.map(() => ({ group: 'migrate', size: 4 })));
    expect(draft.steps.map((s) => s.id)).toContain('pin-init');
    expect(draft.steps.flatMap((s) => s.equivalent).join('\n')).toContain('--live-migration --host c02 --block-migration');
    const a = finalizePlan('node.drain', draft);
    const b = finalizePlan(
      'node.drain',
      await drainRunbook.plan(args({ parallel: 4, to: 'c02', mode: 'block', pinInit: true }), deps(readOnlyCloud(services, many.slice(1))), ctx),
    );
    expect(a.hash).not.toBe(b.hash); // an instance gone between plan and start is drift
    // steps() rebuilt from the stored plan match the plan's steps one for one
    expect(drainRunbook.steps(a, d).map((s) => s.id)).toEqual(a.steps.map((s) => s.id));
  });

  it('refuses a host or destination Nova does not know', async () => {
    await expect(drainRunbook.plan(args({ host: 'c09' }), deps(readOnlyCloud(services, servers)), ctx)).rejects.toThrow(/no nova-compute service on c09/);
    await expect(drainRunbook.plan(args({ to: 'c09' }), deps(readOnlyCloud(services, servers)), ctx)).rejects.toThrow(/no nova-compute service on c09/);
    await expect(drainRunbook.plan(args(), {}, ctx)).rejects.toThrow(/no cloud is configured/);
  });
});

describe('undrain plan', () => {
  it('brings back only recorded instances that still exist and are elsewhere; names the rest', async () => {
    const servers = [srv(1, 'ACTIVE', 'c02'), srv(2, 'SHUTOFF', 'c02'), srv(3, 'ERROR', 'c02'), srv(4, 'ACTIVE', 'c01')];
    const moved = (n: number): MoveResult => ({ id: srv(n, '').id, name: `vm-${String(n).padStart(3, '0')}`, from: 'c01', to: 'c02', result: 'moved', ms: 1 });
    const history = {
      lastDrain: async () => ({ opId: 'op-aaaaaaaaaaaa', at: 0, instances: [1, 2, 3, 4, 9].map(moved) }),
      drainUnderWay: async () => undefined,
    };
    const draft = await undrainRunbook.plan(
      { host: 'c01', migrateBack: true },
      deps(readOnlyCloud([svc('c01', { status: 'disabled', state: 'down' })], servers), history),
      ctx,
    );
    expect(draft.steps.map((s) => s.id)).toEqual([
      'init-files-back',
      'start-service',
      'verify-service',
      'enable-service',
      `migrate-back:${srv(1, '').id}`,
      `migrate-back:${srv(2, '').id}`,
    ]);
    const w = draft.warnings!.join('\n');
    expect(w).toMatch(/vm-003 .* ERROR on c02: Nova cannot migrate it/);
    expect(w).toMatch(/vm-009 .* deleted since the drain/);
    expect(draft.steps.flatMap((s) => s.equivalent).join('\n')).toContain(`openstack server migrate --live-migration --host c01 ${srv(1, '').id}`);
  });

  it('is refused while a drain of the host is under way (its record of origins is still growing), and plans once it ended', async () => {
    const store = await openStore({ kind: 'sqlite', path: ':memory:' });
    const history = storeDrainHistory(store);
    const cloud = readOnlyCloud([svc('c01', { status: 'disabled' })], [srv(1, 'ACTIVE', 'c02')]);
    const drain = await store.createOperation({
      runbook: 'node.drain',
      target: 'c01',
      plan: {},
      planHash: 'h',
      state: 'running',
      requester: { userId: 'U0ALICE01', teamId: 'T1' },
      channelId: 'C1',
    });
    for (const migrateBack of [true, false]) {
      const err = await undrainRunbook.plan({ host: 'c01', migrateBack }, deps(cloud, history), ctx).then(
        () => undefined,
        (e: unknown) => e as ChatOpsError,
      );
      expect(err?.code).toBe('LOCK_HELD');
      expect(err?.message).toBe(
        `c01 is still being drained: operation ${drain.id} is running; undrain once it has finished, or abort it first (\`/op abort ${drain.id}\`).`,
      );
    }
    // another host's drain does not matter
    const c02 = readOnlyCloud([svc('c02')], []);
    await expect(undrainRunbook.plan({ host: 'c02', migrateBack: true }, deps(c02, history), ctx)).resolves.toBeDefined();
    await store.updateOperation(drain.id, { state: 'in_doubt' }, { state: 'running' });
    await expect(undrainRunbook.plan({ host: 'c01', migrateBack: true }, deps(cloud, history), ctx)).rejects.toThrow(/is in doubt; resume or abort it first/);
    await store.updateOperation(drain.id, { state: 'failed' }, { state: 'in_doubt' });
    await expect(undrainRunbook.plan({ host: 'c01', migrateBack: true }, deps(cloud, history), ctx)).resolves.toMatchObject({ target: 'c01' });
    await store.close();
  });
});

describe('pure parts', () => {
  it('classifies statuses as Nova allows migrations', () => {
    expect(['ACTIVE', 'PAUSED', 'SHUTOFF', 'ERROR', 'SUSPENDED', 'SHELVED_OFFLOADED'].map(moveKindOf)).toEqual([
      'live',
      'live',
      'cold',
      undefined,
      undefined,
      undefined,
    ]);
  });
  it('names batches by instance when one at a time', () => {
    const i = { id: 'u', name: 'n', status: 'ACTIVE', kind: 'live' as const };
    expect(migrateStepId([i], 0)).toBe('migrate:u');
    expect(migrateStepId([i, i], 2)).toBe('migrate-batch:3');
    expect(batchesOf([{ ...i, kind: 'cold' }, i], 1).map((b) => b[0]!.kind)).toEqual(['live', 'cold']);
  });
  it('splits the origins of 500 instances into replies Slack accepts', () => {
    const moved = Array.from({ length: 500 }, (_, k): MoveResult => ({
      id: `i${k}`,
      name: `server-${k}-${'x'.repeat(40)}`,
      from: 'c01',
      to: 'c02',
      result: 'moved',
      ms: 5000,
    }));
    const chunks = originLines('c01', moved);
    expect(chunks.every((c) => c.length <= 2900)).toBe(true);
    expect(chunks.join('\n').match(/→ c02/g)).toHaveLength(500);
    expect(chunks.length).toBeLessThan(15);
  });
  it('pages and filters services, and renders within Slack limits', () => {
    const all = Array.from({ length: 60 }, (_, k) =>
      svc(`n${String(k).padStart(3, '0')}`, {
        state: k % 3 ? 'up' : 'down',
        status: k % 2 ? 'enabled' : 'disabled',
        disabledReason: k % 2 ? null : 'x'.repeat(300),
      }),
    );
    const p = pageServices(all, 2, 'up');
    expect(p.total).toBe(40);
    expect(p.pages).toBe(2);
    expect(p.services).toHaveLength(15);
    expect(pageServices(all, 99).page).toBe(3);
    const r = renderNodeList({ cloud: 'c', rows: pageServices(all, 1).services.map((service) => ({ service, instances: 7 })), page: 1, pages: 3, total: 60 });
    expect(checkBlocks(r.blocks)).toEqual([]);
    expect(JSON.stringify(r.blocks)).toContain('page=2');
    const st = renderNodeStatus(
      {
        host: 'c01',
        cloud: 'c',
        service: svc('c01', { status: 'disabled', disabledReason: '<b>maint</b>' }),
        instances: { total: 300, byStatus: { ACTIVE: 290, ERROR: 10 }, sample: Array.from({ length: 10 }, (_, k) => srv(k, 'ACTIVE')) },
        process: { running: false, detail: 'inactive' },
        amqp: { at: 0, server: '10.0.0.5:5672' },
      },
      [{ key: 'host:c01', operationId: 'op-bbbbbbbbbbbb', requester: { userId: 'U1', teamId: 'T1' }, acquiredAt: 0 }],
      60_000,
    );
    expect(checkBlocks(st.blocks)).toEqual([]);
    const body = JSON.stringify(st.blocks);
    expect(body).toContain('&lt;b&gt;maint&lt;/b&gt;');
    expect(body).toContain('op-bbbbbbbbbbbb');
    expect(body).toContain('*not running*');
    expect(body).toContain('… and 290 more');
  });
});

describe('pollDelay', () => {
  it('polls a migration every 100 ms for 2 s, every 250 ms to 5 s, then backs off to the configured interval', () => {
    const delays = Array.from({ length: 40 }, (_, k) => pollDelay(k, 2000));
    expect(delays.slice(0, 20).every((d) => d === 100)).toBe(true);
    expect(delays.slice(20, 32).every((d) => d === 250)).toBe(true);
    expect(delays.slice(0, 32).reduce((a, b) => a + b, 0)).toBe(5000);
    expect(delays.slice(32, 36)).toEqual([375, 563, 844, 1266]);
    expect(Math.max(...delays)).toBe(2000);
    expect(delays.every((d, k) => k === 0 || d >= delays[k - 1]!)).toBe(true);
    expect(pollDelay(0, 50)).toBe(50);
  });
});
