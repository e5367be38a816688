/** Renders `/node status` and `/node list` answers: pure, within Slack's limits (block-kit.ts). */
import type { LockRecord } from '../../store/store.js';
import type { NodeListPage } from '../../actions/node/list.js';
import type { NodeStatus } from '../../actions/node/status.js';
import { formatUtcTime } from '../../core/values.js';
import { code, context, escapeMrkdwn, header, packLines, section } from './block-kit.js';
import type { Rendered } from './render-plan.js';

const upDown = (s: { state: string }) => (s.state === 'up' ? ':large_green_circle: up' : ':red_circle: down');

export function renderNodeStatus(st: NodeStatus, locks: readonly LockRecord[], now: number): Rendered {
  const s = st.service;
  const svc = s
    ? `nova-compute: ${upDown(s)} · *${s.status}*${s.disabledReason ? ` (reason: ${escapeMrkdwn(s.disabledReason)})` : ''}${s.forcedDown ? ' · :warning: forced down' : ''}${s.updatedAt ? ` · last report ${escapeMrkdwn(s.updatedAt)}` : ''}`
    : `:warning: Nova has no nova-compute service on ${code(st.host)}.`;
  const inst =
    'error' in st.instances
      ? `Instances: could not be listed (${escapeMrkdwn(st.instances.error)})`
      : st.instances.total === 0
        ? 'Instances: none'
        : `Instances: *${st.instances.total}* — ${Object.entries(st.instances.byStatus)
            .sort((a, b) => b[1] - a[1])
            .map(([k, n]) => `${n} ${escapeMrkdwn(k)}`)
            .join(', ')}`;
  const proc =
    'error' in st.process
      ? `Process on the node: could not be checked (${escapeMrkdwn(st.process.error)})`
      : `Process on the node: ${st.process.running ? 'running' : '*not running*'}${st.process.detail ? ` — ${escapeMrkdwn(st.process.detail)}` : ''}`;
  const amqp =
    'error' in st.amqp
      ? `Last AMQP connection: log not readable (${escapeMrkdwn(st.amqp.error)})`
      : 'none' in st.amqp
        ? 'Last AMQP connection: none in the log (Zed logs the first connection at DEBUG only)'
        : `Last AMQP connection: ${formatUtcTime(st.amqp.at)}${st.amqp.server ? ` to ${escapeMrkdwn(st.amqp.server)}` : ''} (${Math.round((now - st.amqp.at) / 60_000)} min ago)`;
  const held = locks.filter((l) => l.key === st.host || l.key.endsWith(`:${st.host}`));
  const ops = held.length
    ? held.map((l) => `Operation ${code(l.operationId)} holds this host (asked by <@${l.requester.userId}> at ${formatUtcTime(l.acquiredAt)})`).join('\n')
    : 'No operation holds this host.';
  const blocks = [header(`Node ${st.host}`), section([svc, proc, amqp, inst, ops].join('\n'))];
  if (!('error' in st.instances) && st.instances.sample.length) {
    const lines = st.instances.sample.map((i) => `${code(i.id)} ${escapeMrkdwn(i.name)} · ${escapeMrkdwn(i.status)}`);
    if (st.instances.total > st.instances.sample.length) lines.push(`… and ${st.instances.total - st.instances.sample.length} more`);
    blocks.push(...packLines(lines, 2, (n) => `… and ${n} more`));
  }
  blocks.push(context(`cloud ${escapeMrkdwn(st.cloud)}`));
  const text = `${st.host}: ${s ? `${s.state}, ${s.status}` : 'no compute service'}${'error' in st.instances ? '' : `, ${st.instances.total} instances`}`;
  return { text, blocks };
}

export function renderNodeList(p: NodeListPage): Rendered {
  const filter = p.state ? ` (${p.state})` : '';
  if (!p.rows.length) return { text: `No compute nodes${filter}.`, blocks: [section(`No compute nodes${filter} in cloud ${escapeMrkdwn(p.cloud)}.`)] };
  const lines = p.rows.map(
    ({ service: s, instances }) =>
      `${code(s.host)} ${upDown(s)} · *${s.status}*${s.disabledReason ? ` (${escapeMrkdwn(s.disabledReason)})` : ''} · ${instances === undefined ? '? instances' : `${instances} instance${instances === 1 ? '' : 's'}`}${s.zone ? ` · ${escapeMrkdwn(s.zone)}` : ''}`,
  );
  const more = p.page < p.pages ? ` · next: \`/node list${p.state ? ` state=${p.state}` : ''} page=${p.page + 1}\`` : '';
  return {
    text: `${p.total} compute nodes${filter}, page ${p.page} of ${p.pages}`,
    blocks: [
      ...packLines(lines, 8, (n) => `… and ${n} more`),
      context(`${p.total} nodes${filter} · page ${p.page} of ${p.pages}${more} · cloud ${escapeMrkdwn(p.cloud)}`),
    ],
  };
}
