/**
 * The watcher's decisions, pure: when a down service opens an incident, when its card is due, when
 * it is cleared or followed up, what suppresses it (the bot's maintenance, forced down), and how the
 * evacuation target is chosen from Placement's numbers. The evacuate command it proposes parses.
 */
import { describe, expect, it } from 'vitest';
import { interpretCommand } from '../../bot/grammar/interpret-command.js';
import { renderIncidentCard, renderIncidentRecovery } from '../../bot/render/render-incident.js';
import { chooseTarget, decide, evacuateCommand, type IncidentCard, type WatchedService } from '../../jobs/compute-watcher.js';
import type { IncidentRecord } from '../../store/store.js';

const T0 = Date.UTC(2026, 11, 3, 10);
const svc = (host: string, over: Partial<WatchedService> = {}): WatchedService => ({
  host,
  binary: 'nova-compute',
  zone: 'nova',
  status: 'enabled',
  state: 'up',
  disabledReason: null,
  forcedDown: false,
  updatedAt: '2026-12-03T09:59:50.000000',
  ...over,
});
const inc = (host: string, over: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id: 'in-aaaaaaaaaaaa',
  cloud: 'lab',
  host,
  binary: 'nova-compute',
  downSince: '2026-12-03T09:59:50.000000',
  state: 'pending',
  firstSeenAt: T0,
  channelId: 'C0OPS0001',
  cardTs: null,
  owner: null,
  leaseUntil: null,
  detail: {},
  createdAt: T0,
  updatedAt: T0,
  resolvedAt: null,
  version: 1,
  ...over,
});
const run = (services: WatchedService[], active: IncidentRecord[], now = T0, maintenance = new Map<string, string>()) =>
  decide({ services, active, maintenance, now, graceMs: 60_000 }).map((d) =>
    d.kind === 'open'
      ? `open ${d.service.host}`
      : d.kind === 'skip'
        ? `skip ${d.host}`
        : `${d.kind} ${d.incident.host}${'takeover' in d && d.takeover ? ' (takeover)' : ''}`,
  );

describe('decide', () => {
  it('opens an incident the first time a service is down, and nothing for services that are up', () => {
    expect(run([svc('c01', { state: 'down' }), svc('c02')], [])).toEqual(['open c01']);
  });

  it('posts the card only once the grace period has passed since the first sighting', () => {
    const pending = inc('c01');
    expect(run([svc('c01', { state: 'down' })], [pending], T0 + 59_999)).toEqual(['skip c01']);
    expect(run([svc('c01', { state: 'down' })], [pending], T0 + 60_000)).toEqual(['post c01']);
  });

  it('never posts twice: an open incident stays quiet while the service stays down', () => {
    expect(run([svc('c01', { state: 'down' })], [inc('c01', { state: 'open', cardTs: '1.1' })], T0 + 3600_000)).toEqual([]);
  });

  it('clears an incident that came back within the grace period (no card), follows up one that had its card', () => {
    expect(run([svc('c01')], [inc('c01')])).toEqual(['clear c01']);
    expect(run([svc('c01')], [inc('c01', { state: 'open', cardTs: '1.1' })])).toEqual(['recover c01']);
  });

  it("leaves another replica's post alone until its lease ends, then takes it over", () => {
    const posting = inc('c01', { state: 'posting', owner: 'other', leaseUntil: T0 + 30_000 });
    expect(run([svc('c01', { state: 'down' })], [posting], T0 + 29_000)).toEqual([]);
    expect(run([svc('c01', { state: 'down' })], [posting], T0 + 30_000)).toEqual(['post c01 (takeover)']);
    const recovering = inc('c01', { state: 'recovering', owner: 'other', leaseUntil: T0 + 30_000, cardTs: '1.1' });
    expect(run([svc('c01')], [recovering], T0 + 10_000)).toEqual([]);
    expect(run([svc('c01')], [recovering], T0 + 31_000)).toEqual(['recover c01 (takeover)']);
  });

  it('closes the incident of a service Nova no longer lists: quietly before its card, with a follow-up after it', () => {
    const up = [svc('c02')];
    expect(run(up, [inc('c01')], T0 + 10_000)).toEqual(['gone c01']);
    expect(run(up, [inc('c01', { state: 'open', cardTs: '1.1' })], T0 + 3600_000)).toEqual(['gone c01']);
    // another replica's follow-up: after its lease only
    const recovering = inc('c01', { state: 'recovering', owner: 'other', leaseUntil: T0 + 30_000, cardTs: '1.1' });
    expect(run(up, [recovering], T0 + 10_000)).toEqual([]);
    expect(run(up, [recovering], T0 + 31_000)).toEqual(['gone c01 (takeover)']);
    // a posting left behind is still posted (its card then closes on a later tick)
    expect(run(up, [inc('c01', { state: 'posting', owner: 'other', leaseUntil: T0 })], T0 + 1)).toEqual(['post c01 (takeover)']);
    // an answer listing no service at all is not taken as this one being deleted
    expect(run([], [inc('c01', { state: 'open', cardTs: '1.1' })], T0 + 3600_000)).toEqual(['skip c01']);
  });

  it("raises nothing for the bot's maintenance or a service already forced down", () => {
    const drained = svc('c01', { state: 'down', status: 'disabled', disabledReason: 'kernel update' });
    expect(run([drained], [], T0, new Map([['c01', 'drained by the bot']]))).toEqual(['skip c01']);
    expect(run([svc('c01', { state: 'down', forcedDown: true, status: 'disabled' })], [])).toEqual(['skip c01']);
    // a pending incident whose host went into maintenance is not posted
    expect(run([drained], [inc('c01')], T0 + 3600_000, new Map([['c01', 'locked']]))).toEqual(['skip c01']);
  });
});

describe('chooseTarget', () => {
  const cap = (vcpu: number, mem: number, usedVcpu = 0, usedMem = 0) => ({
    capacity: { VCPU: vcpu, MEMORY_MB: mem, DISK_GB: 100 },
    used: { VCPU: usedVcpu, MEMORY_MB: usedMem },
  });

  it('takes the host with the most free memory among those with room for everything, its own zone first', () => {
    const r = chooseTarget({ host: 'c01', zone: 'nova' }, { VCPU: 2, MEMORY_MB: 1024 }, [
      { host: 'c02', zone: 'nova', capacity: cap(8, 4096, 0, 1024) },
      { host: 'c04', zone: 'nova', capacity: cap(8, 8192, 0, 1024) },
      { host: 'c03', zone: 'c03-zone', capacity: cap(64, 65536) },
    ]);
    expect(r.target).toBe('c04');
    expect(r.fits).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(r.ranking[0]).toMatch(/^c04 \(nova\): MEMORY_MB 7168 free, VCPU 8 free/);
  });

  it('goes to another zone, or to the roomiest host, with a warning saying so', () => {
    const other = chooseTarget({ host: 'c01', zone: 'nova' }, { MEMORY_MB: 4096 }, [
      { host: 'c02', zone: 'nova', capacity: cap(8, 2048) },
      { host: 'c03', zone: 'az2', capacity: cap(8, 8192) },
    ]);
    expect(other.target).toBe('c03');
    expect(other.warnings.join()).toMatch(/another availability zone/);
    const none = chooseTarget({ host: 'c01' }, { MEMORY_MB: 99_999 }, [
      { host: 'c02', capacity: cap(8, 2048) },
      { host: 'c03', capacity: undefined },
    ]);
    expect(none.target).toBe('c02');
    expect(none.fits).toBe(false);
    expect(none.warnings.join()).toMatch(/No enabled host that is up has room/);
    expect(none.ranking.join('\n')).toMatch(/c03: Placement has no resource provider/);
    expect(chooseTarget({ host: 'c01' }, {}, []).target).toBeNull();
  });
});

describe('the proposed command and the card', () => {
  it('proposes an evacuate command the grammar accepts as typed', () => {
    const text = evacuateCommand('c01', 'c02', 'in-abcdefgh2345', '2026-12-03T09:59:50.000000');
    const r = interpretCommand({ command: '/node', text, requester: { userId: 'U1', teamId: 'T1' }, channelId: 'C0OPS0001' });
    expect(r.kind).toBe('command');
    if (r.kind !== 'command') return;
    expect(r.command.name).toBe('node.evacuate');
    expect(r.command.args).toMatchObject({
      from: 'c01',
      to: 'c02',
      method: 'api',
      reason: 'nova-compute down since 2026-12-03T09:59:50.000000, watcher incident in-abcdefgh2345',
    });
  });

  it('renders what went down, since when, the instances, the plan and its button', () => {
    const card: IncidentCard = {
      incidentId: 'in-abcdefgh2345',
      cloud: 'lab',
      host: 'c01',
      binary: 'nova-compute',
      zone: 'nova',
      downSince: '2026-12-03T09:59:50.000000',
      seenDownAt: T0,
      instances: Array.from({ length: 1000 }, (_, i) => ({ id: `id-${i}`, name: `vm<${i}>`, status: 'ACTIVE' })),
      target: 'c02',
      ranking: ['c02 (nova): MEMORY_MB 7168 free'],
      command: 'evacuate c01 c02 reason=x',
      button: true,
      warnings: [],
      again: false,
    };
    const r = renderIncidentCard(card);
    const json = JSON.stringify(r.blocks);
    expect(r.text).toMatch(/nova-compute on c01 \(cloud lab\) is down since 2026-12-03T09:59:50.000000 UTC.*1000 instance/);
    expect(json).toContain('vm&lt;0&gt;');
    expect(json).toMatch(/and \d+ more/);
    expect(json).toContain('/node evacuate c01 c02 reason=x');
    expect(json).toContain('"action_id":"incident.evacuate"');
    expect(json).toContain('"value":"in-abcdefgh2345"');
    expect(r.blocks.length).toBeLessThanOrEqual(50);
    const noButton = JSON.stringify(renderIncidentCard({ ...card, button: false, again: true }).blocks);
    expect(noButton).not.toContain('incident.evacuate');
    expect(noButton).toContain('Posted again');
    const recovery = { incidentId: 'in-abcdefgh2345', cloud: 'lab', host: 'c01', binary: 'nova-compute', downSince: 'x', downForMs: 300_000 };
    expect(renderIncidentRecovery({ ...recovery, upSince: 'y' })).toMatch(/reports again .* after about 5 min down\. Incident in-abcdefgh2345 is resolved/);
    expect(
      renderIncidentRecovery({
        ...recovery,
        upSince: null,
        gone: true,
      }),
    ).toMatch(/^:wastebasket: nova-compute on c01 \(cloud lab\) is gone: Nova no longer lists this service .* Incident in-abcdefgh2345 is closed/);
  });
});
