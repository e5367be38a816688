/**
 * `/node list [state=up|down|enabled|disabled] [page=N]`: read-only. Every nova-compute service of
 * the cloud with up/down, enabled/disabled and its instance count, a page at a time. Counts come
 * from one server listing per host on the page only, so a large cloud costs one page of calls.
 */
import type { ComputeService } from '../../adapters/openstack/cloud.js';
import { defineQuery } from '../../engine/query.js';
import { command, opt } from '../../engine/spec/spec-builders.js';
import { choice, intRange } from '../../engine/spec/value-types.js';
import { cloudOf, type NodeDeps } from '../deps.js';

export const nodeListSpec = command({
  family: 'node',
  words: ['list'],
  summary: 'List compute nodes and their service state.',
  description: 'Read-only: compute nodes, a page at a time, optionally only those up, down, enabled or disabled.',
  options: [
    opt('page', intRange(1, 1000), 'Which page of the list.', { default: 1, defaultText: '1' }),
    opt('state', choice(['up', 'down', 'enabled', 'disabled']), 'Only nodes in this state.', { defaultText: 'all' }),
  ],
  kind: 'query',
  effect: 'read',
  approval: 'never',
  examples: ['list', 'list state=disabled page=2'],
});

export const NODE_LIST_PAGE_SIZE = 25;

export interface NodeListRow {
  service: ComputeService;
  /** Instances on the host across projects, or undefined when the count could not be read. */
  instances: number | undefined;
}

export interface NodeListPage {
  cloud: string;
  rows: NodeListRow[];
  page: number;
  pages: number;
  /** Services matching the filter, over all pages. */
  total: number;
  state?: 'up' | 'down' | 'enabled' | 'disabled';
}

/** Filters and pages services (pure; sorted by host name). */
export function pageServices(all: readonly ComputeService[], page: number, state?: NodeListPage['state'], pageSize = NODE_LIST_PAGE_SIZE) {
  const match = all
    .filter((s) => !state || (state === 'up' || state === 'down' ? s.state === state : s.status === state))
    .sort((a, b) => a.host.localeCompare(b.host));
  const pages = Math.max(1, Math.ceil(match.length / pageSize));
  const p = Math.min(Math.max(1, page), pages);
  return { services: match.slice((p - 1) * pageSize, p * pageSize), page: p, pages, total: match.length };
}

export async function nodeList(deps: unknown, args: { page?: number; state?: NodeListPage['state'] }): Promise<NodeListPage> {
  const c = cloudOf(deps);
  const all = await c.cloud.listComputeServices({ binary: 'nova-compute' });
  const { services, page, pages, total } = pageServices(all, args.page ?? 1, args.state);
  const counts = await Promise.all(
    services.map((s) =>
      c.cloud.listServersOnHost({ host: s.host }).then(
        (l) => l.length,
        () => undefined,
      ),
    ),
  );
  return {
    cloud: c.name,
    rows: services.map((service, i) => ({ service, instances: counts[i] })),
    page,
    pages,
    total,
    ...(args.state ? { state: args.state } : {}),
  };
}

export const nodeListQuery = defineQuery<{ page: number; state?: NodeListPage['state'] }, NodeListPage, NodeDeps>({
  spec: nodeListSpec,
  answer: (args, deps) => nodeList(deps, args),
});
