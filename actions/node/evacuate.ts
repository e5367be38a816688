/**
 * `/node evacuate <from-host> <to-host>` (runbook.md §3, total node failure): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, differentHosts, opt, pos, reasonOption } from '../../engine/spec/spec-builders.js';
import { HOST, choice } from '../../engine/spec/value-types.js';

export const evacuateSpec = command({
  family: 'node',
  words: ['evacuate'],
  summary: 'Total node failure: move every instance to another node (shared storage only).',
  description:
    'Rebuilds the instances of a dead node on another one. method=api uses Nova evacuate after forcing the service down (supported); method=db rewrites the hosts in the nova and neutron databases as the chapter does, keeping the prior rows so it can be undone. Needs shared storage for /var/lib/nova/instances.',
  positionals: [pos('from-host', HOST, 'The failed node.', 'from'), pos('to-host', HOST, 'The node that takes its instances.', 'to')],
  options: [opt('method', choice(['api', 'db']), "api: Nova evacuate; db: the chapter's SQL.", { default: 'api', defaultText: 'api' }), reasonOption()],
  check: differentHosts('from', 'from-host', 'to', 'to-host'),
  kind: 'runbook',
  effect: 'destructive',
  approval: 'always',
  examples: ['evacuate c01 c02 reason="mainboard dead"', 'evacuate c01 c02 method=db reason=INC-4711'],
});
