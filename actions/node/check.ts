/**
 * `/node check <host> [reboot-instances]` (runbook.md §2, after a reboot): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, flag, pos } from '../../engine/spec/spec-builders.js';
import { HOST } from '../../engine/spec/value-types.js';

export const nodeCheckSpec = command({
  family: 'node',
  words: ['check'],
  summary: 'After a reboot: nova-compute running and on AMQP, instances listed; optionally start them.',
  description:
    'Checks that nova-compute runs and connected to AMQP after the boot, lists the instances hosted there and, with reboot-instances, starts each one (hard reboot for those that do not come up, which recreates their libvirt XML).',
  positionals: [pos('host', HOST, 'The compute node that rebooted.')],
  flags: [flag('reboot-instances', 'Start every instance on the node (hard reboot where a soft one fails).')],
  kind: 'runbook',
  effect: 'change',
  effectFor: (args) => (args['rebootInstances'] === true ? 'change' : 'read'),
  approval: 'policy',
  examples: ['check c01', 'check c01 reboot-instances'],
});
