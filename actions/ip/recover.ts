/**
 * `/ip recover <ip>` (runbook.md, an IP back from the pool): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { IP, NETWORK } from '../../engine/spec/value-types.js';

export const recoverSpec = command({
  family: 'ip',
  words: ['recover'],
  summary: 'Get back an IP that returned to the pool, into a port that keeps it.',
  description:
    'Checks whether a port already holds the IP, else asks Neutron for exactly that address; where the cloud forbids that, falls back to creating probe ports in bounded rounds, always deleting every probe port it created.',
  positionals: [pos('ip', IP, 'The lost IP address.')],
  options: [opt('network', NETWORK, 'The network the IP belongs to.', { defaultText: "the cloud's public network (Public_AGILE in the runbook)" })],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['recover 96.118.182.107', 'recover 96.118.182.107 network=Public_AGILE'],
});
