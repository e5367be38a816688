/**
 * novaReason: Nova's own words for a failed move, from the server's instance actions (the shapes
 * the lab returns; the lab contract test reads a real refusal).
 */
import { describe, expect, it } from 'vitest';
import type { Cloud, InstanceAction } from '../../adapters/openstack/cloud.js';
import { novaReason } from '../../actions/steps/migrate-instances.js';

const tb = (last: string) =>
  `Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/nova/conductor/manager.py", line 500, in _live_migrate\n    task.execute()\n${last}\n`;

function cloudWith(actions: InstanceAction[], o: { failList?: boolean } = {}): Cloud {
  const calls = {
    listInstanceActions: async () => {
      if (o.failList) throw new Error('403 Forbidden');
      return actions.map(({ events: _e, ...a }) => a);
    },
    getInstanceAction: async (_s: string, req: string) => actions.find((a) => a.requestId === req),
  };
  return new Proxy(calls as unknown as Cloud, {
    get: (t, k) =>
      k in t
        ? t[k as keyof Cloud]
        : k === 'then'
          ? undefined
          : () => {
              throw new Error(`unexpected call ${String(k)}`);
            },
  });
}

const ev = (
  event: string,
  result: string,
  start: string,
  traceback: string | null = null,
  host: string | null = 'controller',
  details: string | null = null,
) => ({ event, result, host, startTime: start, traceback, details });

describe('novaReason', () => {
  it("names the first failed event of the newest move and, without details, the exception on its traceback's last line", async () => {
    const cloud = cloudWith([
      {
        action: 'live-migration',
        requestId: 'req-2',
        message: 'Error',
        startTime: '2026-11-25T10:00:00',
        events: [
          ev('compute_live_migration', 'Error', '2026-11-25T10:00:02', tb('nova.exception.InstanceNotFound: Instance 27080d89 could not be found.'), 'c01'),
          ev(
            'compute_check_can_live_migrate_source',
            'Error',
            '2026-11-25T10:00:01',
            tb('nova.exception.MigrationPreCheckError: Migration pre-check error: source gone'),
            'c01',
          ),
          ev('conductor_live_migrate_instance', 'Success', '2026-11-25T10:00:00'),
        ],
      },
      { action: 'create', requestId: 'req-1', message: null, startTime: '2026-11-25T09:00:00', events: [] },
    ]);
    expect(await novaReason(cloud, 'x')).toBe(
      'compute_check_can_live_migrate_source on c01 failed: MigrationPreCheckError: Migration pre-check error: source gone',
    );
  });

  it("prefers the event's details (2.84+) and ignores a traceback whose last line is a frame, as Zed's are", async () => {
    expect(
      await novaReason(
        cloudWith([
          {
            action: 'live-migration',
            requestId: 'r',
            message: 'Error',
            startTime: 't',
            events: [ev('conductor_live_migrate_instance', 'Error', 't', tb('    raise result'), 'controller', 'No valid host was found. ')],
          },
        ]),
        'x',
      ),
    ).toBe('conductor_live_migrate_instance on controller failed: No valid host was found.');
    expect(
      await novaReason(
        cloudWith([
          { action: 'migrate', requestId: 'r', message: null, startTime: 't', events: [ev('conductor_migrate_server', 'Error', 't', tb('    raise result'))] },
        ]),
        'x',
      ),
    ).toBe('conductor_migrate_server on controller failed');
    expect(
      await novaReason(
        cloudWith([
          { action: 'live-migration', requestId: 'r', message: 'Error', startTime: 't', events: [ev('compute_live_migration', 'Error', 't', null, null)] },
        ]),
        'x',
      ),
    ).toBe('compute_live_migration failed');
  });

  it('is undefined when Nova does not say: no move, no failed event, or no right to read actions', async () => {
    expect(
      await novaReason(
        cloudWith([{ action: 'create', requestId: 'r', message: null, startTime: 't', events: [ev('compute_build', 'Error', 't', tb('x.Y: z'))] }]),
        'x',
      ),
    ).toBeUndefined();
    expect(
      await novaReason(
        cloudWith([{ action: 'live-migration', requestId: 'r', message: null, startTime: 't', events: [ev('compute_live_migration', 'Success', 't')] }]),
        'x',
      ),
    ).toBeUndefined();
    expect(await novaReason(cloudWith([], { failList: true }), 'x')).toBeUndefined();
  });

  it('bounds a long message', async () => {
    const r = await novaReason(
      cloudWith([
        {
          action: 'live-migration',
          requestId: 'r',
          message: null,
          startTime: 't',
          events: [ev('e', 'Error', 't', tb(`nova.exception.X: ${'y'.repeat(1000)}`))],
        },
      ]),
      'x',
    );
    expect(r!.length).toBe(400);
    expect(r!.endsWith('…')).toBe(true);
  });
});
