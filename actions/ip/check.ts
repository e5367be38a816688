/**
 * `/ip check <ip> [port=N]` (runbook.md, is anything answering): the command spec only.
 * The query is not built yet: the bot answers that it is not available and does nothing. Its
 * query goes in this file, defined from this spec (engine/query.ts defineQuery).
 */
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { IP, PORT } from '../../engine/spec/value-types.js';

export const ipCheckSpec = command({
  family: 'ip',
  words: ['check'],
  summary: 'TCP-connect to an IP (like nc -v -w 2) and show the banner.',
  description: 'Read-only: opens a TCP connection to the address and port and shows what answers.',
  positionals: [pos('ip', IP, 'The IP address.')],
  options: [opt('port', PORT, 'The TCP port.', { default: 22, defaultText: '22' })],
  kind: 'query',
  effect: 'read',
  approval: 'never',
  examples: ['check 96.118.182.107', 'check 2001:db8::7 port=443'],
});
