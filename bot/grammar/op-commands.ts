/**
 * The commands that act on the bot's own operations and schedules (/op, /schedule). They are not
 * runbooks of actions/: bot/dispatch/op-control.ts answers them through the engine.
 */
import type { CommandSpec } from '../../engine/spec/command-spec.js';
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { OP_ID, OP_STATE_FILTER, SCHEDULE_ID, SCHEDULE_STATE_FILTER } from '../../engine/spec/value-types.js';

export const OP_COMMANDS: readonly CommandSpec[] = [
  command({
    family: 'op',
    words: ['list'],
    summary: 'List operations (default: those not finished).',
    description: 'Read-only: operations with their state, who asked and who approved.',
    options: [opt('state', OP_STATE_FILTER, 'Which operations.', { default: 'active', defaultText: 'active' })],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['list', 'list state=in-doubt', 'list state=all'],
  }),
  command({
    family: 'op',
    words: ['show'],
    summary: 'Show an operation: its plan, approvals and step journal.',
    description: 'Read-only: the plan, the approvals and every journaled step of the operation.',
    positionals: [pos('op-id', OP_ID, 'The operation.')],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['show op-abcdefgh2345'],
  }),
  command({
    family: 'op',
    words: ['resume'],
    summary: 'Resume a paused or in-doubt operation from where it stopped.',
    description: 'Re-plans, reads the real state of an in-doubt step, and continues the operation; nothing that completed runs twice.',
    positionals: [pos('op-id', OP_ID, 'The operation.')],
    kind: 'control',
    effect: 'change',
    approval: 'policy',
    examples: ['resume op-abcdefgh2345'],
  }),
  command({
    family: 'op',
    words: ['abort'],
    summary: 'Stop an operation after its current step (cleanup steps still run).',
    description: 'Stops the operation after the step that is running; steps marked always (cleanup) still run.',
    positionals: [pos('op-id', OP_ID, 'The operation.')],
    kind: 'control',
    effect: 'change',
    approval: 'never',
    examples: ['abort op-abcdefgh2345'],
  }),
  command({
    family: 'op',
    words: ['undo'],
    summary: 'Undo what an operation changed, from its journal (a new plan, approved like any other).',
    description: 'Builds a plan that reverses the completed steps of the operation from what they journaled (prior DB rows, moved files, created ports).',
    positionals: [pos('op-id', OP_ID, 'The operation.')],
    kind: 'runbook',
    effect: 'destructive',
    approval: 'policy',
    examples: ['undo op-abcdefgh2345'],
  }),
  command({
    family: 'op',
    words: ['export'],
    summary: 'Post-mortem of an operation as a Markdown file in its thread.',
    description:
      "Read-only: the timeline (requested, approved by whom, each step with its equivalent command, start, end and result, failures with their reasons, SQL pre-images) uploaded to the operation's thread; shown only to you for an operation on user data.",
    positionals: [pos('op-id', OP_ID, 'The operation.')],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['export op-abcdefgh2345'],
  }),
  command({
    family: 'schedule',
    words: ['list'],
    summary: 'List scheduled runs (default: those still to run).',
    description: 'Read-only: scheduled runbooks with their time, who asked and their state.',
    options: [opt('state', SCHEDULE_STATE_FILTER, 'Which schedules.', { default: 'scheduled', defaultText: 'scheduled' })],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['list', 'list state=all'],
  }),
  command({
    family: 'schedule',
    words: ['cancel'],
    summary: 'Cancel a scheduled run before it starts.',
    description: 'Cancels a scheduled run that has not started yet.',
    positionals: [pos('schedule-id', SCHEDULE_ID, 'The schedule.')],
    kind: 'control',
    effect: 'change',
    approval: 'never',
    examples: ['cancel sc-abcdefgh2345'],
  }),
];
