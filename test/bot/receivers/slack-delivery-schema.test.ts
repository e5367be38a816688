/** The shape check in front of Bolt: what passes, and what is refused with which field named. */
import { describe, expect, it } from 'vitest';
import { checkDelivery } from '../../../bot/receivers/slack-delivery-schema.js';

const command = {
  command: '/node',
  text: 'help',
  user_id: 'U0ALICE01',
  team_id: 'T0CHATOPS',
  channel_id: 'C0OPS0001',
  trigger_id: '1.2.abc',
  response_url: 'https://hooks.slack.com/x',
};
const click = {
  type: 'block_actions',
  user: { id: 'U0BOB0001', team_id: 'T0CHATOPS' },
  team: { id: 'T0CHATOPS' },
  container: { type: 'message', channel_id: 'C0OPS0001', message_ts: '1.2' },
  actions: [{ action_id: 'approval.approve', block_id: 'b', type: 'button', value: 'ap-x|y', action_ts: '1.3' }],
};
const submission = {
  type: 'view_submission',
  user: { id: 'U0BOB0001' },
  team: null,
  view: {
    id: 'V1',
    callback_id: 'approval.reject',
    private_metadata: '{}',
    state: { values: { reason: { reason: { type: 'plain_text_input', value: 'why' } } } },
  },
};

describe('checkDelivery', () => {
  it.each([
    ['a slash command (form)', command, 'form', undefined, 'command'],
    ['a slash command envelope', command, 'json', 'slash_commands', 'command'],
    ['a button click', click, 'payload', undefined, 'block_actions'],
    ['a click in an envelope', click, 'json', 'interactive', 'block_actions'],
    ['a dialog submission (org-wide install: team null)', submission, 'payload', undefined, 'view_submission'],
    ['ssl_check=1', { ssl_check: '1' }, 'form', undefined, 'ssl_check'],
    ['url_verification', { type: 'url_verification', challenge: 'c' }, 'json', undefined, 'url_verification'],
  ] as const)('passes %s', (_name, body, origin, envelope, kind) => {
    expect(checkDelivery(body, origin, envelope)).toEqual({ ok: true, kind });
  });

  it.each([
    ['null', null, 'payload', 'not_an_object', 'payload: expected a JSON object (a slash command, block_actions or view_submission), got null'],
    ['an array', [click], 'payload', 'not_an_object', 'payload: expected a JSON object (a slash command, block_actions or view_submission), got an array'],
    ['a number', 3, 'json', 'not_an_object', 'body: expected a JSON object (a slash command, block_actions or view_submission), got number'],
    ['no type', {}, 'payload', 'unsupported_type', 'payload.type: missing; expected block_actions or view_submission'],
    [
      'a shortcut',
      { type: 'shortcut', user: { id: 'U1' } },
      'payload',
      'unsupported_type',
      'payload.type: "shortcut"; expected block_actions or view_submission',
    ],
    [
      'an Events API event',
      { type: 'event_callback', event: { type: 'app_mention' } },
      'json',
      'unsupported_type',
      'body.event: not expected here (this bot answers a slash command, block_actions or view_submission)',
    ],
    ['a click without actions', { ...click, actions: [] }, 'payload', 'bad_shape', 'payload.actions: expected at least one action'],
    ['a click without a user', { ...click, user: undefined }, 'payload', 'bad_shape', 'payload.user: Invalid input: expected object, received undefined'],
    ['a click with a null channel', { ...click, channel: null }, 'payload', 'bad_shape', 'payload.channel: Invalid input: expected object, received null'],
    [
      'a click without a container',
      { ...click, container: undefined },
      'payload',
      'bad_shape',
      'payload.container: Invalid input: expected object, received undefined',
    ],
    [
      'an action id no listener matches',
      { ...click, actions: [{ ...click.actions[0], action_id: 'Approve' }] },
      'payload',
      'bad_shape',
      'payload.actions.0.action_id: expected an id such as approval.approve',
    ],
    [
      'a button value over 2,000 characters',
      { ...click, actions: [{ ...click.actions[0], value: 'v'.repeat(2001) }] },
      'payload',
      'bad_shape',
      'payload.actions.0.value: expected at most 2000 characters',
    ],
    [
      'a view without state',
      { ...submission, view: { id: 'V1', callback_id: 'approval.reject' } },
      'payload',
      'bad_shape',
      'payload.view.state: Invalid input: expected object, received undefined',
    ],
    [
      'a view submission carrying actions',
      { ...submission, actions: [] },
      'payload',
      'unsupported_type',
      'payload.actions: not expected here (this bot answers a slash command, block_actions or view_submission)',
    ],
    [
      'a command with an event field',
      { ...command, event: 'x' },
      'form',
      'unsupported_type',
      'body.event: not expected here (this bot answers a slash command, block_actions or view_submission)',
    ],
    [
      'a command repeated (form arrays)',
      { ...command, command: ['/node', '/op'] },
      'form',
      'bad_shape',
      'body.command: Invalid input: expected string, received array',
    ],
    ['an upper-case command', { ...command, command: '/NODE' }, 'form', 'bad_shape', 'body.command: expected a slash command such as /node'],
    ['a text over 4,000 characters', { ...command, text: 't'.repeat(4001) }, 'form', 'bad_shape', 'body.text: expected at most 4000 characters'],
    ['ssl_check with more fields', { ssl_check: '1', command: '/node' }, 'form', 'bad_shape', 'body.ssl_check: expected only ssl_check=1'],
  ] as const)('refuses %s, naming the field', (_name, body, origin, reason, message) => {
    expect(checkDelivery(body, origin)).toEqual({ ok: false, reason, message });
  });

  it('refuses every Events API envelope: the manifest subscribes to none', () => {
    expect(checkDelivery({ type: 'event_callback', team_id: 'T1' }, 'json', 'events_api')).toMatchObject({
      ok: false,
      reason: 'unsupported_type',
      message: expect.stringContaining('subscribes to none'),
    });
  });
});
