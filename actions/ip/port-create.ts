/**
 * `/ip port create <fqdn>` (runbook.md, keeping a public IP): the command spec only.
 * The runbook is not built yet: the bot answers that it is not available and does nothing. Its
 * runbook goes in this file, defined from this spec (engine/runbook.ts defineRunbook).
 */
import { command, opt, pos } from '../../engine/spec/spec-builders.js';
import { HOST, NETWORK } from '../../engine/spec/value-types.js';

export const portCreateSpec = command({
  family: 'ip',
  words: ['port', 'create'],
  summary: 'Create a port named after an FQDN on the public network; report its IPs.',
  description: 'Creates a Neutron port named after the FQDN on the network and reports its IPv4/IPv6 fixed IPs, for `openstack server create --nic port-id=…`.',
  positionals: [
    pos(
      'fqdn',
      { ...HOST, placeholder: '<fqdn>', expected: 'a fully qualified domain name such as example-fqdn-01.sys.example.com' },
      "The name of the port (the future server's FQDN).",
    ),
  ],
  options: [opt('network', NETWORK, 'The network.', { defaultText: "the cloud's public network (Public_AGILE in the runbook)" })],
  kind: 'runbook',
  effect: 'change',
  approval: 'policy',
  examples: ['port create example-fqdn-01.sys.example.com', 'port create example-fqdn-01.sys.example.com network=Public_AGILE'],
});
