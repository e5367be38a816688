import { describe, expect, it } from 'vitest';
import { amqpConnectedSince, parseAmqpConnections, parseLogTime } from '../../../adapters/ssh/nova-log.js';

describe("nova-compute's log", () => {
  it("parses oslo.log timestamps as the node's local time", () => {
    expect(parseLogTime('2026-11-25 14:15:34.123 1234 INFO x')).toBe(Date.UTC(2026, 10, 25, 14, 15, 34, 123));
    expect(parseLogTime('2026-11-25 14:15:34.123 1234 INFO x', 60)).toBe(Date.UTC(2026, 10, 25, 13, 15, 34, 123));
    expect(parseLogTime('2026-11-25T14:15:34+0100 c01 nova-compute[1]: x')).toBe(Date.UTC(2026, 10, 25, 13, 15, 34));
    expect(parseLogTime('2026-02-30 10:00:00.000 1 INFO x')).toBeUndefined();
    expect(parseLogTime('Nov 25 14:15:34 c01 x')).toBeUndefined();
  });

  it('finds the AMQP connection after a given time, with the broker address', () => {
    const log = [
      '2026-11-25 14:00:00.000 1 INFO oslo.messaging._drivers.impl_rabbit [-] Connected to AMQP server on 10.0.0.5:5672 via [amqp] client with port 1.',
      'garbage Connected to AMQP server on nowhere',
      '2026-11-25 14:20:00.500 2 INFO oslo.messaging._drivers.impl_rabbit [req-1 - - - - -] Connected to AMQP server on rabbit.example.com:5671 via [amqp] client with port 2.',
      '2026-11-25 14:21:00.000 2 INFO old style: Connected to AMQP server on 10.0.0.6:5672',
      '2026-11-25 14:21:30.000 2 ERROR oslo.messaging._drivers.impl_rabbit [-] [abc] AMQP server on 10.0.0.6:5672 is unreachable',
    ].join('\n');
    expect(parseAmqpConnections(log).map((c) => c.server)).toEqual(['10.0.0.5:5672', 'rabbit.example.com:5671', '10.0.0.6:5672']);
    expect(amqpConnectedSince(log, Date.UTC(2026, 10, 25, 14, 10))?.server).toBe('10.0.0.6:5672');
    expect(amqpConnectedSince(log, Date.UTC(2026, 10, 25, 14, 22))).toBeUndefined();
  });

  it("counts Zed's INFO 'Reconnected to AMQP server on' (the first connect is DEBUG-only there)", () => {
    const log =
      '2026-11-25 15:00:00.000 7 INFO oslo.messaging._drivers.impl_rabbit [-] [0a1b] Reconnected to AMQP server on 127.0.0.1:5672 via [amqp] client with port 5.';
    expect(amqpConnectedSince(log, Date.UTC(2026, 10, 25, 14))).toMatchObject({ server: '127.0.0.1:5672' });
  });
});
