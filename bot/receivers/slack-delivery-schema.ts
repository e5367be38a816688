/**
 * The shapes of what Slack delivers to this bot, checked (zod) after the signature and before Bolt's
 * dispatch. Bolt 5 reads fields of the parsed body without checking them (`body.ssl_check` on a JSON
 * `null`, `body.user.team_id` on a payload without `user`), and the Socket Mode client does the same
 * with envelopes; a body that passes here is one neither of them, nor our dispatchers, can trip on.
 *
 * Only what this bot answers passes: slash commands, `block_actions`, `view_submission` (plus Slack's
 * `ssl_check` and `url_verification` handshakes, which Bolt answers itself). The manifest subscribes to
 * no Events API events and enables no shortcuts, so anything else is refused as unsupported.
 * Objects are loose: Slack adds fields; only the fields somebody reads are constrained.
 */
import { z } from 'zod';
import { SLACK_LIMITS as L } from '../render/slack-limits.js';

/** What Bolt and the dispatchers would do with a delivery that passed. */
export type DeliveryKind = 'command' | 'block_actions' | 'view_submission' | 'url_verification' | 'ssl_check';

export type DeliveryVerdict = { ok: true; kind: DeliveryKind } | { ok: false; reason: MalformedReason; message: string };

/** Closed set of reasons, the `reason` label of the metric. */
export type MalformedReason = 'not_an_object' | 'unsupported_type' | 'bad_shape' | 'bad_json' | 'too_large' | 'bad_envelope';

/** Longest slash-command text accepted (Slack's own limit is lower; the grammar refuses far shorter). */
export const MAX_COMMAND_TEXT = 4000;

const text = (max: number) => z.string().max(max, `expected at most ${max} characters`);
const slackId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Slack id such as U024BE7LH');
const optionalText = (max: number) => text(max).optional();

// The dispatchers in bot/app.ts match these patterns; anything else would reach no listener and never be acknowledged.
const commandName = z.string().regex(/^\/[a-z][a-z0-9_-]{0,31}$/, 'expected a slash command such as /node');
const listenerId = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*$/, 'expected an id such as approval.approve')
  .max(L.actionId, `expected at most ${L.actionId} characters`);

/** Slack's form fields of a slash command (every value a string, as in the form body). */
const slashCommand = z.looseObject({
  command: commandName,
  text: optionalText(MAX_COMMAND_TEXT),
  user_id: slackId,
  user_name: optionalText(255),
  team_id: slackId,
  channel_id: slackId,
  channel_name: optionalText(255),
  enterprise_id: slackId.optional(),
  trigger_id: optionalText(255),
  response_url: optionalText(1000),
  api_app_id: optionalText(64),
  is_enterprise_install: optionalText(8),
});

const user = z.looseObject({
  id: slackId,
  team_id: slackId.optional(),
  name: optionalText(255),
  username: optionalText(255),
});
// Null for an org-wide install; Bolt then takes the user's team.
const team = z.looseObject({ id: slackId, enterprise_id: slackId.optional() }).nullable().optional();
const enterprise = z.looseObject({ id: slackId }).nullable().optional();
const responseUrls = z
  .array(z.looseObject({ response_url: text(1000) }))
  .max(10)
  .optional();

const buttonAction = z.looseObject({
  action_id: listenerId,
  block_id: text(L.blockId),
  type: text(64),
  value: optionalText(L.buttonValue),
  action_ts: optionalText(64),
});

const blockActions = z.looseObject({
  type: z.literal('block_actions'),
  user,
  team,
  enterprise,
  trigger_id: optionalText(255),
  response_url: optionalText(1000),
  // The dispatcher reads the channel from `channel` or else `container`, the message from `message` or `container`.
  channel: z.looseObject({ id: slackId }).optional(),
  container: z.looseObject({
    channel_id: slackId.optional(),
    message_ts: optionalText(64),
  }),
  message: z.looseObject({ ts: text(64), thread_ts: optionalText(64) }).optional(),
  actions: z.array(buttonAction).min(1, 'expected at least one action').max(L.actionsElements),
});

/** One input's state as a view submission carries it: a text value, or a chosen option. */
const inputState = z.looseObject({
  type: text(64),
  value: text(3000).nullable().optional(),
  selected_option: z
    .looseObject({ value: text(L.buttonValue) })
    .nullable()
    .optional(),
});

const viewSubmission = z.looseObject({
  type: z.literal('view_submission'),
  user,
  team,
  enterprise,
  trigger_id: optionalText(255),
  response_urls: responseUrls,
  view: z.looseObject({
    id: slackId,
    callback_id: listenerId.max(L.callbackId),
    private_metadata: optionalText(L.privateMetadata),
    app_installed_team_id: slackId.optional(),
    state: z.looseObject({
      values: z
        .record(text(L.blockId), z.record(text(L.actionId), inputState))
        .refine((v) => Object.keys(v).length <= L.modalBlocks, `expected at most ${L.modalBlocks} inputs`),
    }),
  }),
});

const urlVerification = z.looseObject({
  type: z.literal('url_verification'),
  challenge: text(255),
});

const SUPPORTED = 'a slash command, block_actions or view_submission';

/** A zod failure as one line: the first issue, with the path of the field it is about. */
function describe(e: z.ZodError, prefix: string): string {
  const issue = e.issues[0];
  if (!issue) return `${prefix}: malformed`;
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
  return `${path}: ${issue.message}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function check(schema: z.ZodType, body: unknown, kind: DeliveryKind, prefix: string): DeliveryVerdict {
  const r = schema.safeParse(body);
  return r.success ? { ok: true, kind } : { ok: false, reason: 'bad_shape', message: describe(r.error, prefix) };
}

/**
 * Checks a parsed delivery: an HTTP body as Bolt parses it (`origin: 'form'` without `payload`,
 * `'payload'` for the JSON in a form's `payload` field, `'json'` for a JSON body) or a Socket Mode
 * envelope's payload (`envelopeType` given). The verdict names the field and what was expected.
 */
export function checkDelivery(body: unknown, origin: 'form' | 'payload' | 'json', envelopeType?: string): DeliveryVerdict {
  const prefix = origin === 'payload' || envelopeType !== undefined ? 'payload' : 'body';
  if (!isObject(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body;
    return {
      ok: false,
      reason: 'not_an_object',
      message: `${prefix}: expected a JSON object (${SUPPORTED}), got ${got}`,
    };
  }
  const command = envelopeType === 'slash_commands' || (envelopeType === undefined && origin === 'form');
  if (command && envelopeType === undefined && body.ssl_check !== undefined) {
    return body.ssl_check === '1' && Object.keys(body).length === 1
      ? { ok: true, kind: 'ssl_check' }
      : {
          ok: false,
          reason: 'bad_shape',
          message: 'body.ssl_check: expected only ssl_check=1',
        };
  }
  // Bolt dispatches on these keys before it looks at `type`: a body carrying one is read as something else.
  const type = body.type;
  const foreign = command ? ['event', 'name', 'actions', 'payload'] : ['event', 'command', 'name', ...(type === 'view_submission' ? ['actions'] : [])];
  for (const key of foreign) {
    if (key in body)
      return {
        ok: false,
        reason: 'unsupported_type',
        message: `${prefix}.${key}: not expected here (this bot answers ${SUPPORTED})`,
      };
  }
  if (command) return check(slashCommand, body, 'command', prefix);
  if (type === 'url_verification' && envelopeType === undefined) return check(urlVerification, body, 'url_verification', prefix);
  if (envelopeType === 'events_api') {
    return {
      ok: false,
      reason: 'unsupported_type',
      message: `${prefix}: an Events API event (${shown(type)}); this bot subscribes to none`,
    };
  }
  if (type === 'block_actions') return check(blockActions, body, 'block_actions', prefix);
  if (type === 'view_submission') return check(viewSubmission, body, 'view_submission', prefix);
  if ('actions' in body)
    return {
      ok: false,
      reason: 'unsupported_type',
      message: `${prefix}.actions: only block_actions payloads carry actions`,
    };
  return {
    ok: false,
    reason: 'unsupported_type',
    message: `${prefix}.type: ${shown(type)}; expected block_actions or view_submission`,
  };
}

const shown = (type: unknown) =>
  typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : type === undefined ? 'missing' : type === null ? 'null' : `a ${typeof type}`;
