/**
 * fast-check generators of what could reach /slack/events or the Socket Mode connection with a valid
 * signature: hostile command texts, forged clicks and dialog submissions that reuse the ids of real
 * plans, broken JSON, JSON of every shape (null, arrays, numbers, missing type/user/team/actions,
 * unknown types, views without state), oversized fields and bodies over the limit, plus the
 * deliberate faults of bot/receivers/request-faults.ts. One generator serves both transports: a
 * `Delivery` is encoded as Slack would send it over HTTP (`toHttp`) or as an envelope (`toFrame`).
 */
import fc from 'fast-check';

/** A plan waiting for approval in the store under test. */
export interface RealPlan {
  opId: string;
  approvalId: string;
  planHash: string;
}

export type Delivery =
  /** A Slack delivery with a payload of any value (`payload` is a JS value, encoded per transport). */
  | { kind: 'envelope'; type: string; payload: unknown; fault?: boolean; forged?: boolean; label: string }
  /** Bytes as they are: an HTTP body with a content type, or a Socket Mode frame. */
  | { kind: 'raw'; text: string; contentType?: string; label: string };

export interface FuzzWorld {
  plans: RealPlan[];
  /** A response_url the stand-in serves (nothing leaves 127.0.0.1). */
  responseUrl: string;
}

const TEAM = 'T0CHATOPS';
const OPS = 'C0OPS0001';
/** The requester of every real plan, and people who may not approve: they may not approve anything. */
const ALICE = { id: 'U0ALICE01', name: 'alice' };
const MAY_NOT_APPROVE = [ALICE, { id: 'U0DAVE001', name: 'dave' }, { id: 'U0MALLORY', name: 'mallory' }, { id: 'W0FOREIGN1', name: 'foreign' }];
const APPROVERS = [
  { id: 'U0BOB0001', name: 'bob' },
  { id: 'U0CAROL01', name: 'carol' },
];

const HOSTILE_TEXTS = [
  'drain c01;reboot reason=x',
  'drain c01 reason=$(id)',
  'drain c01 reason=`rm -rf /`',
  "drain c01' OR '1'='1 reason=x",
  'drain c01 reason="unterminated',
  'drain ../../etc/passwd reason=x',
  'drain c01 reason=x to=c01',
  'drain c01 reason=x parallel=99999999999999999999',
  'drain c01 reason=x at=9999-99-99T99:99Z',
  'drain C01 reason=x',
  'undrain c01 migrate-back migrate-back',
  'list; DROP TABLE operations; --',
  'show op-aaaaaaaaaaaa',
  'abort op-aaaaaaaaaaaa',
  'resume op-aaaaaaaaaaaa',
  'cancel sc-aaaaaaaaaaaa',
  'help help help',
  '\u0000\u0001\u0002',
  '\u202edrain c01 reason=x',
  '<!channel> <@U0BOB0001> *bold* `code`',
  'drain c01 reason=' + 'x'.repeat(5000),
  '__fault__ outside-not-quite',
];
const COMMANDS = ['/node', '/op', '/schedule', '/instance', '/volume', '/ip', '/unknown', '/NODE', 'node', '', '/' + 'n'.repeat(40)];
const ACTION_IDS = ['approval.approve', 'approval.reject', 'approval.cancel', 'approval.break_glass', 'op_abort', 'op_resume', 'unknown.button'];

/** Strings of every kind: printable, any code point, and long. */
const anyText = fc.oneof(
  { arbitrary: fc.string({ maxLength: 80 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 2 },
  { arbitrary: fc.constantFrom(...HOSTILE_TEXTS), weight: 4 },
  { arbitrary: fc.integer({ min: 3990, max: 4010 }).map((n) => 'y'.repeat(n)), weight: 1 },
);

/** Any JSON value, including the shapes Bolt trips on. */
const anyJson = fc.oneof(
  fc.constantFrom<unknown>(null, [], {}, 0, -1, '', 'payload', true, [null], { type: null }, { type: 'block_actions' }, { type: 'view_submission', view: {} }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value that replaces a field: wrong types, null, empty, huge (100–400 KB). */
const badValue = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>(null, 0, 7.5, true, [], {}, '', [{}], { id: null }), weight: 6 },
  { arbitrary: anyText, weight: 3 },
  { arbitrary: fc.integer({ min: 100_000, max: 400_000 }).map((n) => 'z'.repeat(n)), weight: 1 },
);

/** Replaces (or deletes) one field at a path of `base`. */
function mutate(base: Record<string, unknown>, path: string[], value: unknown, remove: boolean): Record<string, unknown> {
  const copy = structuredClone(base);
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    if (typeof next !== 'object' || next === null) return copy;
    at = next as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

function leafPaths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [prefix];
  const entries = Object.entries(v as Record<string, unknown>);
  return [prefix, ...entries.flatMap(([k, x]) => leafPaths(x, [...prefix, k]))].filter((p) => p.length > 0);
}

export function deliveries(world: FuzzWorld): fc.Arbitrary<Delivery> {
  const realValue = fc.constantFrom(...world.plans).map((p) => `${p.approvalId}|${p.planHash}`);
  const value = fc.oneof(
    { arbitrary: realValue, weight: 5 },
    // Forged variants of real values: another plan's hash, a changed hash, cut short, wrong separator.
    { arbitrary: fc.tuple(fc.constantFrom(...world.plans), fc.constantFrom(...world.plans)).map(([a, b]) => `${a.approvalId}|${b.planHash}`), weight: 2 },
    { arbitrary: fc.constantFrom(...world.plans).map((p) => `${p.approvalId}|${p.planHash.slice(0, 63)}0`), weight: 1 },
    { arbitrary: fc.constantFrom(...world.plans).map((p) => `${p.approvalId}:${p.planHash}`), weight: 1 },
    { arbitrary: fc.constantFrom('ap-aaaaaaaaaaaa|' + '0'.repeat(64), 'op-aaaaaaaaaaaa', ''), weight: 1 },
    { arbitrary: anyText, weight: 2 },
  );

  const slash = fc.record({
    command: fc.oneof({ arbitrary: fc.constantFrom('/node', '/op', '/schedule'), weight: 5 }, { arbitrary: fc.constantFrom(...COMMANDS), weight: 1 }),
    text: anyText,
    user: fc.constantFrom(...MAY_NOT_APPROVE, ...APPROVERS),
    trigger: fc.stringMatching(/^[0-9]{6,12}\.[0-9]{4}\.[a-f0-9]{32}$/),
  });
  const commandPayload = slash.map(({ command, text, user, trigger }) => ({
    token: 'verification-token',
    team_id: TEAM,
    team_domain: 'chatops',
    channel_id: OPS,
    channel_name: 'ops',
    user_id: user.id,
    user_name: user.name,
    command,
    text,
    api_app_id: 'A0CHATOPS',
    is_enterprise_install: 'false',
    response_url: world.responseUrl,
    trigger_id: trigger,
  }));

  /** A click as Slack builds it, on a real plan's buttons or on ones that are not there, by people who may not approve. */
  const click = fc
    .record({
      actor: fc.constantFrom(...MAY_NOT_APPROVE),
      team: fc.constantFrom(TEAM, TEAM, 'T0ELSEWHERE'),
      actionId: fc.constantFrom(...ACTION_IDS),
      value,
      ts: fc.stringMatching(/^[0-9]{10}\.[0-9]{6}$/),
    })
    // Cancelling one's own request is allowed (the user id decides, from any team: approvals/eligibility.ts).
    .filter((c) => !(c.actor.id === ALICE.id && c.actionId === 'approval.cancel'))
    // Abort and Resume take an operation id; real ones are left out (any member may abort: see the report).
    .map((c) => (c.actionId.startsWith('op_') && /^ap-/.test(c.value) ? { ...c, value: 'op-aaaaaaaaaaaa' } : c))
    .map(({ actor, team, actionId, value: v, ts }) => ({
      type: 'block_actions',
      user: { id: actor.id, username: actor.name, name: actor.name, team_id: team },
      api_app_id: 'A0CHATOPS',
      token: 'verification-token',
      container: { type: 'message', message_ts: ts, channel_id: OPS, is_ephemeral: false },
      trigger_id: `${ts.replace('.', '')}.1.${'ab'.repeat(16)}`,
      team: { id: team, domain: 'chatops' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: OPS, name: 'ops' },
      state: { values: {} },
      response_url: world.responseUrl,
      actions: [{ action_id: actionId, block_id: 'approval', text: { type: 'plain_text', text: 'Approve' }, value: v, type: 'button', action_ts: ts }],
    }));

  /** Approvers clicking with values that do not match a real plan. */
  const approverClick = fc
    .tuple(click, fc.constantFrom(...APPROVERS), fc.constantFrom('ap-aaaaaaaaaaaa|' + '0'.repeat(64), 'garbage', ''))
    .map(([c, who, v]) => ({ ...c, user: { id: who.id, username: who.name, name: who.name, team_id: TEAM }, actions: [{ ...c.actions[0]!, value: v }] }));

  /** The reject and break-glass dialogs submitted by people who may not approve. */
  const dialog = fc
    .record({
      actor: fc.constantFrom(...MAY_NOT_APPROVE),
      callback: fc.constantFrom('approval.reject', 'approval.break_glass', 'unknown.dialog'),
      value,
      reason: anyText,
      metadataBroken: fc.boolean(),
    })
    .map(({ actor, callback, value: v, reason, metadataBroken }) => ({
      type: 'view_submission',
      team: { id: TEAM, domain: 'chatops' },
      user: { id: actor.id, username: actor.name, name: actor.name, team_id: TEAM },
      api_app_id: 'A0CHATOPS',
      token: 'verification-token',
      trigger_id: `1234567890.1.${'cd'.repeat(16)}`,
      view: {
        id: 'V0FUZZ0001',
        team_id: TEAM,
        type: 'modal',
        callback_id: callback,
        private_metadata: metadataBroken ? v : JSON.stringify({ value: v, channel: OPS, ts: '1700000000.000100' }),
        state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
        hash: 'h',
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    }));

  /** A well-formed payload with one field replaced or removed. */
  const mutated = fc.tuple(fc.oneof(click, dialog, commandPayload), fc.nat(), badValue, fc.boolean()).map(([base, i, v, remove]) => {
    const paths = leafPaths(base);
    const path = paths[i % paths.length]!;
    return { base: mutate(base as Record<string, unknown>, path, v, remove), at: path.join('.') };
  });

  const envelope =
    (type: string, label: string, forged = false) =>
    (payload: unknown) => ({ kind: 'envelope' as const, type, payload, label, ...(forged ? { forged } : {}) });

  return fc.oneof(
    { arbitrary: commandPayload.map(envelope('slash_commands', 'command')), weight: 20 },
    { arbitrary: click.map(envelope('interactive', 'forged click', true)), weight: 20 },
    { arbitrary: approverClick.map(envelope('interactive', 'approver click, wrong value', true)), weight: 4 },
    { arbitrary: dialog.map(envelope('interactive', 'forged dialog', true)), weight: 8 },
    {
      arbitrary: mutated.map(({ base, at }) =>
        envelope('command' in base && typeof base.command === 'string' && !('type' in base) ? 'slash_commands' : 'interactive', `mutated ${at}`)(base),
      ),
      weight: 20,
    },
    { arbitrary: anyJson.map(envelope('interactive', 'any JSON')), weight: 10 },
    { arbitrary: anyJson.map(envelope('events_api', 'any JSON event')), weight: 3 },
    {
      arbitrary: fc
        .constantFrom('slash_commands', 'interactive', 'events_api', 'error', 'hello', '')
        .chain((t) => anyJson.map(envelope(t, `envelope type ${t}`))),
      weight: 3,
    },
    { arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ kind: 'raw' as const, text, label: 'raw text' })), weight: 4 },
    {
      arbitrary: fc
        .string({ maxLength: 200 })
        .map((s) => ({ kind: 'raw' as const, text: `payload=${encodeURIComponent('{"type":' + s)}`, label: 'broken JSON' })),
      weight: 4,
    },
    {
      arbitrary: fc
        .tuple(fc.string({ maxLength: 100 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded; charset=utf-8', ''))
        .map(([text, contentType]) => ({
          kind: 'raw' as const,
          text,
          contentType,
          label: `content type ${contentType}`,
        })),
      weight: 2,
    },
    {
      arbitrary: fc
        .integer({ min: 1024 * 1024 + 1, max: 1024 * 1024 + 200_000 })
        .map((n) => ({ kind: 'raw' as const, text: `payload=${'q'.repeat(n)}`, label: 'over the limit' })),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(commandPayload, fc.constantFrom('throw', 'reject', 'timer'))
        .map(([p, mode]) => ({ ...envelope('slash_commands', `fault ${mode}`)({ ...p, command: '/op', text: `__fault__ ${mode}` }), fault: true })),
      weight: 1,
    },
  );
}

/** The body and content type Slack would POST for `d`. */
export function toHttp(d: Delivery): { body: string; contentType: string } {
  if (d.kind === 'raw') return { body: d.text, contentType: d.contentType ?? 'application/x-www-form-urlencoded' };
  if (d.type === 'slash_commands' && typeof d.payload === 'object' && d.payload !== null && !Array.isArray(d.payload)) {
    const fields = Object.entries(d.payload as Record<string, unknown>).map(
      ([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')] as [string, string],
    );
    return { body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' };
  }
  if (d.type === 'events_api') return { body: JSON.stringify(d.payload) ?? 'null', contentType: 'application/json' };
  return { body: new URLSearchParams({ payload: JSON.stringify(d.payload) ?? 'null' }).toString(), contentType: 'application/x-www-form-urlencoded' };
}

/** The Socket Mode frame for `d`, and its envelope id when it has one. */
export function toFrame(d: Delivery, envelopeId: string): { frame: string; envelopeId?: string } {
  if (d.kind === 'raw') return { frame: d.text };
  return {
    frame: JSON.stringify({ envelope_id: envelopeId, type: d.type, payload: d.payload, accepts_response_payload: d.type !== 'events_api' }),
    envelopeId,
  };
}
