/** Prometheus metrics served on /metrics in HTTP mode. One registry per app instance. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  commands: Counter<'command' | 'outcome'>;
  actions: Counter<'action' | 'outcome'>;
  ackSeconds: Histogram<'kind'>;
  rejectedRequests: Counter<'reason'>;
  duplicates: Counter<'kind'>;
  /** Authenticated deliveries refused for their shape or size (4xx, or an acknowledged envelope). */
  malformedDeliveries: Counter<'transport' | 'reason'>;
  /** Unexpected failures inside a request, answered by the last line of defence (bot/receivers/request-scope.ts). */
  requestFaults: Counter<'transport' | 'kind'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'chatops_' });
  return {
    registry,
    commands: new Counter({
      name: 'chatops_commands_total',
      help: 'Slash commands received, by command and outcome',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    }),
    actions: new Counter({
      name: 'chatops_actions_total',
      help: 'Button actions received, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'chatops_ack_seconds',
      help: 'Time from receiving a Slack delivery to acknowledging it',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
      registers: [registry],
    }),
    rejectedRequests: new Counter({
      name: 'chatops_rejected_requests_total',
      help: 'HTTP requests refused before Bolt (stale/future timestamps)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'chatops_duplicate_deliveries_total',
      help: 'Retried or replayed deliveries acknowledged and dropped',
      labelNames: ['kind'],
      registers: [registry],
    }),
    malformedDeliveries: new Counter({
      name: 'chatops_malformed_deliveries_total',
      help: 'Authenticated Slack deliveries refused for their shape or size, by transport and reason',
      labelNames: ['transport', 'reason'],
      registers: [registry],
    }),
    requestFaults: new Counter({
      name: 'chatops_request_faults_total',
      help: 'Unexpected failures inside a request, logged and answered while the process kept serving',
      labelNames: ['transport', 'kind'],
      registers: [registry],
    }),
  };
}
