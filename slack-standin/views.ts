import { randomBytes } from 'node:crypto';
import { SLACK_LIMITS as L } from '../bot/render/slack-limits.js';
import { checkBlocks } from './block-check.js';
import type { View, Workspace } from './workspace.js';
import { TEAM, BOT } from './workspace.js';

type Args = Record<string, unknown>;
type Result = Record<string, unknown> & { ok: boolean };

const invalid = (messages: string[]): Result => ({
  ok: false,
  error: 'invalid_arguments',
  response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
});

/** A view argument as Slack checks it: JSON, type modal, title/submit/close, blocks, metadata. */
function readView(raw: unknown): Record<string, unknown> | Result {
  let view: unknown = raw;
  if (typeof raw === 'string') {
    try {
      view = JSON.parse(raw);
    } catch {
      return invalid(['view must be JSON [json-pointer:/view]']);
    }
  }
  if (typeof view !== 'object' || view === null || Array.isArray(view)) return invalid(['missing required field: view']);
  const v = view as Record<string, unknown>;
  const errors: string[] = [];
  if (v.type !== 'modal') errors.push('must be modal [json-pointer:/view/type]');
  const text = (o: unknown): unknown => (o as { text?: unknown } | undefined)?.text;
  for (const [key, max, required] of [
    ['title', L.viewTitle, true],
    ['submit', L.viewButton, false],
    ['close', L.viewButton, false],
  ] as const) {
    const t = text(v[key]);
    if (t === undefined && !required) continue;
    if (typeof t !== 'string' || t.length === 0 || t.length > max) errors.push(`must be 1 to ${max} characters [json-pointer:/view/${key}/text]`);
  }
  if (!Array.isArray(v.blocks)) errors.push('must be an array [json-pointer:/view/blocks]');
  else {
    if (v.blocks.some((b: { type?: unknown }) => b?.type === 'input') && v.submit === undefined)
      errors.push('must provide submit when using input blocks [json-pointer:/view/submit]');
    errors.push(...checkBlocks(v.blocks, L.modalBlocks, '/view/blocks'));
  }
  if (typeof v.callback_id === 'string' && v.callback_id.length > L.callbackId)
    errors.push(`must be less than ${L.callbackId + 1} characters [json-pointer:/view/callback_id]`);
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > L.privateMetadata) {
    errors.push(`must be less than ${L.privateMetadata + 1} characters [json-pointer:/view/private_metadata]`);
  }
  return errors.length ? invalid(errors) : v;
}

const isResult = (v: Record<string, unknown> | Result): v is Result => v.ok === false;
const wire = (v: View): Result => ({ ok: true, view: { id: v.id, team_id: TEAM.id, app_id: BOT.appId, bot_id: BOT.botId, ...v.view, state: { values: {} } } });

/** views.open / views.update: modals for the reject-with-reason dialog and the like. */
export const VIEW_METHODS: Record<string, (ws: Workspace, args: Args) => Result> = {
  'views.open': (ws, args) => {
    const t = ws.triggers.get(String(args.trigger_id ?? ''));
    if (!t) return { ok: false, error: 'invalid_trigger_id' };
    if (t.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (ws.clock.now() - t.at > L.triggerTtlMs) return { ok: false, error: 'expired_trigger_id' };
    const view = readView(args.view);
    if (isResult(view)) return view;
    t.used = true;
    return wire(ws.setView({ id: `V${randomBytes(5).toString('hex').toUpperCase()}`, user: t.user, view, open: true }));
  },
  'views.update': (ws, args) => {
    const existing =
      ws.views.get(String(args.view_id ?? '')) ?? [...ws.views.values()].find((v) => args.external_id !== undefined && v.view.external_id === args.external_id);
    if (!existing) return { ok: false, error: 'not_found' };
    const view = readView(args.view);
    if (isResult(view)) return view;
    return wire(ws.setView({ ...existing, view }));
  },
};

/** What a view_submission's ack does to the modal, as Slack applies it. */
export function applyViewAck(ws: Workspace, viewId: string, ack: unknown): void {
  const v = ws.views.get(viewId);
  if (!v) return;
  const a = (typeof ack === 'object' && ack !== null ? ack : {}) as Record<string, unknown>;
  if (a.response_action === 'errors') ws.setView({ ...v, errors: (a.errors ?? {}) as Record<string, string> });
  else if (a.response_action === 'update' && typeof a.view === 'object' && a.view !== null)
    ws.setView({ ...v, view: a.view as Record<string, unknown>, errors: {} });
  else ws.setView({ ...v, open: false });
}
