/** What nova-compute puts on the bus for one versioned notification (oslo.messaging's 2.0 envelope). */
import { randomBytes } from 'node:crypto';

export function osloBody(eventType: string, data: Record<string, unknown>, timestamp = '2026-12-03 06:41:12.654321'): Buffer {
  const inner = {
    message_id: randomBytes(8).toString('hex'),
    publisher_id: 'nova-compute:c01',
    event_type: eventType,
    priority: 'INFO',
    payload: { 'nova_object.name': 'InstanceActionPayload', 'nova_object.namespace': 'nova', 'nova_object.version': '1.8', 'nova_object.data': data },
    timestamp,
  };
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) }));
}
