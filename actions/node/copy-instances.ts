/**
 * `/node copy-instances <from-host> <to-host>` (runbook.md §3, locally stored instances): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, differentHosts, pos } from '../../engine/spec/spec-builders.js';
import { HOST } from '../../engine/spec/value-types.js';

export const copyInstancesSpec = command({
  family: 'node',
  words: ['copy-instances'],
  summary: 'Copy /var/lib/nova/instances of an offline node to another node (unsupported upstream).',
  description:
    'Copies the whole instances tree (the _base images and the instance-xxxxxxxx overlays) from a permanently offline node to another one. Names are unique across nodes, so nothing is overwritten. Undocumented upstream; the plan says so.',
  positionals: [pos('from-host', HOST, 'The offline node.', 'from'), pos('to-host', HOST, 'The node that receives the files.', 'to')],
  check: differentHosts('from', 'from-host', 'to', 'to-host'),
  kind: 'runbook',
  effect: 'destructive',
  approval: 'always',
  unsupported: 'Undocumented and unsupported upstream; it is the only way to save locally stored instances.',
  examples: ['copy-instances c01 c02'],
});
