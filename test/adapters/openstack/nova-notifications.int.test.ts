/**
 * Nova's notifications through the real RabbitMQ: a publisher that speaks oslo.messaging's wire
 * format (the 2.0 envelope, Nova's versioned payloads) on an exchange of this test's own, and the
 * bot's subscription receiving, parsing and filtering them — including after the broker drops it.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NovaNotifications, osloTime, parseNovaNotification, type NovaEvent } from '../../../adapters/openstack/nova-notifications.js';
import { waitFor } from '../../helpers/wait-for.js';
import { osloBody } from './oslo-body.js';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const EXCHANGE = `chatops-test-${randomBytes(4).toString('hex')}`;
const CONNECTION = `chatops-notif-test-${randomBytes(4).toString('hex')}`;

describe('NovaNotifications on RabbitMQ', () => {
  let pub: ChannelModel;
  let ch: Channel;
  let sub: NovaNotifications;
  const seen: NovaEvent[] = [];

  beforeAll(async () => {
    pub = await connect(URL);
    ch = await pub.createChannel();
    await ch.assertExchange(EXCHANGE, 'topic', { durable: false });
    sub = await NovaNotifications.start({ url: URL, exchange: EXCHANGE, connectionName: CONNECTION, reconnectMs: 1_000 });
    sub.subscribe((e) => seen.push(e));
  });

  afterAll(async () => {
    await sub?.close();
    await ch?.deleteExchange(EXCHANGE);
    await pub?.close();
  });

  const publish = (key: string, body: Buffer) => ch.publish(EXCHANGE, key, body);

  it('delivers an instance event with its uuid, host, states and microsecond time', async () => {
    const uuid = '8a3c1a5e-8f0e-4d61-9b1f-2f4b6c7d8e9f';
    const got = sub.next((e) => e.instanceUuid === uuid, 5_000);
    publish('versioned_notifications.info', osloBody('instance.live_migration_post.end', { uuid, host: 'c02', state: 'active', task_state: null }));
    const e = await got;
    expect(e).toMatchObject({
      eventType: 'instance.live_migration_post.end',
      instanceUuid: uuid,
      host: 'c02',
      state: 'active',
      taskState: null,
      publisherId: 'nova-compute:c01',
    });
    expect(e!.timestamp).toBe(Date.UTC(2026, 11, 3, 6, 41, 12) + 654.321);
  });

  it('delivers service.update with the service view', async () => {
    const got = sub.next((e) => e.eventType === 'service.update', 5_000);
    publish(
      'versioned_notifications.info',
      osloBody('service.update', { host: 'c01', binary: 'nova-compute', disabled: true, disabled_reason: 'maintenance', forced_down: true }),
    );
    expect((await got)?.service).toEqual({ host: 'c01', binary: 'nova-compute', disabled: true, disabledReason: 'maintenance', forcedDown: true });
  });

  it('takes only the versioned topic, and skips bodies that are not notifications', async () => {
    const before = sub.received;
    publish('notifications.info', osloBody('instance.update', { uuid: 'legacy' })); // the unversioned topic
    publish('versioned_notifications.error', Buffer.from('not json'));
    publish('versioned_notifications.error', Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"no":"event"}' })));
    const marker = sub.next((e) => e.eventType === 'instance.marker', 5_000);
    publish('versioned_notifications.error', osloBody('instance.marker', { uuid: 'm' }));
    expect(await marker).toBeDefined();
    expect(sub.received - before).toBe(1);
    expect(seen.some((e) => e.instanceUuid === 'legacy')).toBe(false);
  });

  it('watch() keeps what arrives before anyone waits (the request that causes it goes first)', async () => {
    const w = sub.watch((e) => e.instanceUuid === 'watched');
    try {
      const marker = sub.next((e) => e.instanceUuid === 'watch-marker', 5_000);
      publish('versioned_notifications.info', osloBody('instance.live_migration_pre.end', { uuid: 'watched' }));
      publish('versioned_notifications.info', osloBody('instance.live_migration_post.end', { uuid: 'watched' }));
      publish('versioned_notifications.info', osloBody('instance.update', { uuid: 'watch-marker' }));
      await marker; // both watched events were delivered before anyone asked for them
      expect((await w.next(1_000))?.eventType).toBe('instance.live_migration_pre.end');
      expect((await w.next(1_000))?.eventType).toBe('instance.live_migration_post.end');
      expect(await w.next(50)).toBeUndefined();
    } finally {
      w.stop();
    }
  });

  it('background() never throws nor waits when the bus is unreachable', async () => {
    const errors: Error[] = [];
    const b = NovaNotifications.background({ url: 'amqp://guest:guest@127.0.0.1:1/', onError: (e) => errors.push(e) });
    expect(b.connected).toBe(false);
    const w = b.watch(() => true);
    expect(await w.next(50)).toBeUndefined();
    await waitFor('the failed connection to be reported', () => errors.length > 0, 10_000);
    w.stop();
    await b.close();
  });

  it('a wait that times out answers undefined ("look for yourself")', async () => {
    expect(await sub.next(() => false, 50)).toBeUndefined();
  });

  it('recovers after the broker closes its connection', async () => {
    const { stdout } = await execa('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
    const line = stdout.split('\n').find((l) => l.includes(CONNECTION));
    expect(line, 'the subscription is listed under its connection name').toBeDefined();
    const pid = line!.split('\t')[0]!;
    await execa('rabbitmqctl', ['-q', 'close_connection', pid, 'chatops test: recovery']);
    await waitFor('the subscription to notice', () => !sub.connected, 10_000);
    await waitFor('the subscription to come back', () => sub.connected, 20_000);
    const got = sub.next((e) => e.instanceUuid === 'after-recovery', 5_000);
    publish('versioned_notifications.info', osloBody('instance.update', { uuid: 'after-recovery' }));
    expect(await got).toBeDefined();
  });

  it('declares a missing exchange itself (Nova not started yet) and binds to it', async () => {
    const fresh = `${EXCHANGE}-fresh`;
    const s3 = await NovaNotifications.start({ url: URL, exchange: fresh });
    try {
      await ch.checkExchange(fresh);
      const got = s3.next((e) => e.instanceUuid === 'fresh', 5_000);
      ch.publish(fresh, 'versioned_notifications.info', osloBody('instance.update', { uuid: 'fresh' }));
      expect(await got).toBeDefined();
    } finally {
      await s3.close();
      await ch.deleteExchange(fresh);
    }
  });

  it('close() answers pending waits with undefined', async () => {
    const s2 = await NovaNotifications.start({ url: URL, exchange: EXCHANGE });
    const pending = s2.next(() => false, 60_000);
    await s2.close();
    expect(await pending).toBeUndefined();
  });
});

describe('oslo parsing', () => {
  it('reads timestamps with and without fractions, and bare (envelope-less) messages', () => {
    expect(osloTime('2026-12-03 06:41:12')).toBe(Date.UTC(2026, 11, 3, 6, 41, 12));
    expect(osloTime('2026-12-03T06:41:12.5')).toBe(Date.UTC(2026, 11, 3, 6, 41, 12) + 500);
    expect(Number.isNaN(osloTime('yesterday'))).toBe(true);
    const bare = JSON.stringify({
      event_type: 'instance.evacuate',
      publisher_id: 'nova-api:controller',
      timestamp: '2026-12-03 06:41:12',
      payload: { 'nova_object.data': { uuid: 'u', host: 'c02' } },
    });
    expect(parseNovaNotification(bare)).toMatchObject({ eventType: 'instance.evacuate', instanceUuid: 'u', host: 'c02' });
    expect(parseNovaNotification('null')).toBeUndefined();
  });
});
