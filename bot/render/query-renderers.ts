/**
 * How each query of actions/index.ts is shown: its answer → text and blocks (pure). A query added to
 * the registry needs one line here; test/bot/render/query-renderers.test.ts fails when one is missing.
 */
import type { Query } from '../../engine/query.js';
import { nodeListQuery } from '../../actions/node/list.js';
import { nodeStatusQuery } from '../../actions/node/status.js';
import { renderNodeList, renderNodeStatus } from '../render-node.js';
import type { Rendered } from '../render-plan.js';

type Renderer = (answer: unknown) => Rendered;

/** Pairs a query with its renderer, typed by the query's answer. */
const show = <A, R, D>(query: Query<A, R, D>, render: (answer: R) => Rendered): [string, Renderer] => [query.name, render as Renderer];

export const QUERY_RENDERERS: ReadonlyMap<string, Renderer> = new Map([
  show(nodeStatusQuery, (a) => renderNodeStatus(a.status, a.locks, a.now)),
  show(nodeListQuery, renderNodeList),
]);
