/**
 * The table of every command the bot understands: the specs of actions/ (each beside its runbook or
 * query, listed in actions/index.ts) and the /op and /schedule commands. The parser, the help, the
 * manifest and the dispatcher all read this one table. Collecting only: no I/O.
 */
import { ACTION_SPECS } from '../../actions/index.js';
import type { CommandSpec } from '../../engine/spec/command-spec.js';
import { OP_COMMANDS } from './op-commands.js';

export const COMMANDS: readonly CommandSpec[] = [...ACTION_SPECS, ...OP_COMMANDS];
