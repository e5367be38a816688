/**
 * `/ip detach <ip>` (runbook.md, keeping a public IP): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, pos } from '../../engine/spec/spec-builders.js';
import { IP } from '../../engine/spec/value-types.js';

export const detachSpec = command({
  family: 'ip',
  words: ['detach'],
  summary: 'Detach the port holding an IP from its instance, so the instance can go and the IP stays.',
  description: 'Finds the port holding the IP and clears its device and binding, so the instance can be deleted and the port reused with --nic port-id.',
  positionals: [pos('ip', IP, 'The IP address.')],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['detach 96.118.182.107'],
});
