/**
 * The table of every command the bot understands (runbook.md, plus /op and /schedule). The parser,
 * the help, the manifest and the dispatcher all read this one table.
 */
import type { Problem } from '../../core/errors.js';
import type { CommandSpec, FlagSpec, OptionSpec, PositionalSpec, ValueType } from './command-spec.js';
import {
  DURATION,
  HOST,
  IP,
  NETWORK,
  OP_ID,
  OP_STATE_FILTER,
  PATH,
  PORT,
  REASON,
  SCHEDULE_ID,
  SCHEDULE_STATE_FILTER,
  UTC_TIME,
  UUID,
  YES_NO,
  choice,
  intRange,
} from './value-types.js';

const camel = (s: string): string => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

const pos = (name: string, type: ValueType, description: string, key = camel(name)): PositionalSpec => ({ name, key, type, description });

function opt(name: string, type: ValueType, description: string, more: Partial<OptionSpec> = {}): OptionSpec {
  return { name, key: camel(name), type, description, required: false, ...more };
}

const flag = (name: string, description: string): FlagSpec => ({ name, key: camel(name), description });

type Def = Pick<CommandSpec, 'family' | 'words' | 'summary' | 'description' | 'kind' | 'effect' | 'approval' | 'examples'> &
  Partial<Omit<CommandSpec, 'family' | 'words' | 'name' | 'verb'>>;

function command(d: Def): CommandSpec {
  const verb = d.words.join('-');
  return {
    positionals: [],
    options: [],
    flags: [],
    exclusive: [],
    schedulable: false,
    aliases: d.words.length > 1 ? [[verb]] : [],
    ...d,
    verb,
    name: `${d.family}.${verb}`,
  };
}

/** A problem when two host arguments name the same host. */
const differentHosts =
  (aKey: string, aName: string, bKey: string, bName: string) =>
  (args: Readonly<Record<string, unknown>>): Problem[] =>
    args[aKey] !== undefined && args[aKey] === args[bKey] ? [{ path: bName, message: `${bName} must differ from ${aName} (both are ${String(args[aKey])})` }] : [];

const REASON_OPTION = opt('reason', REASON, 'Why; shown in the plan, the audit log and Nova\'s disabled reason.', { required: true });

// In args: `at` in epoch ms, `in` in milliseconds (see command-facts.ts scheduledRunAt).
const SCHEDULE_OPTIONS = [
  opt('at', UTC_TIME, 'Schedule the run for this UTC time instead of running now.'),
  opt('in', DURATION, 'Schedule the run after this delay instead of running now.'),
];

export const COMMANDS: readonly CommandSpec[] = [
  command({
    family: 'node',
    words: ['drain'],
    summary: 'Planned maintenance: disable the node, move every instance off, stop nova-compute.',
    description:
      'Disables scheduling onto the node with the reason, migrates its instances (one by one or N at a time, to a given host or where the scheduler picks), checks the node is empty, stops nova-compute and optionally moves its init files aside so configuration management cannot restart it. Remembers where every instance came from, for undrain.',
    positionals: [pos('host', HOST, 'The compute node to drain.')],
    options: [
      REASON_OPTION,
      opt('to', HOST, 'Destination host for every instance.', { defaultText: 'the scheduler picks' }),
      opt('mode', choice(['live', 'block', 'auto']), 'live: shared storage; block: live block migration; auto: decide from the instance.', { default: 'auto', defaultText: 'auto' }),
      opt('parallel', intRange(1, 16), 'How many migrations run at a time.', { default: 1, defaultText: '1' }),
      opt('stop-service', YES_NO, 'Stop nova-compute once the node is empty.', { default: true, defaultText: 'yes' }),
      opt('pin-init', YES_NO, 'Move the init files aside so Puppet cannot restart nova-compute.', { default: false, defaultText: 'no' }),
      ...SCHEDULE_OPTIONS,
    ],
    exclusive: [['at', 'in']],
    schedulable: true,
    check: differentHosts('host', 'host', 'to', 'to'),
    kind: 'runbook',
    effect: 'change',
    approval: 'policy',
    examples: [
      'drain c01 reason=maintenance',
      'drain c01.example.com reason="disk swap in rack 4" to=c02 mode=block parallel=4',
      'drain c01 reason=kernel-update pin-init=yes at=2026-12-01T02:00Z',
    ],
  }),
  command({
    family: 'node',
    words: ['undrain'],
    summary: 'Bring a drained node back: init files, nova-compute, AMQP check, enable; optionally migrate back.',
    description:
      'Puts the init files back, starts nova-compute, verifies it runs and reached AMQP, enables the compute service and, with migrate-back, moves the instances drained off it back to it.',
    positionals: [pos('host', HOST, 'The compute node to bring back.')],
    flags: [flag('migrate-back', 'Migrate the instances that drain moved off back to this node.')],
    kind: 'runbook',
    effect: 'change',
    approval: 'policy',
    examples: ['undrain c01', 'undrain c01 migrate-back'],
  }),
  command({
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
  }),
  command({
    family: 'node',
    words: ['evacuate'],
    summary: 'Total node failure: move every instance to another node (shared storage only).',
    description:
      'Rebuilds the instances of a dead node on another one. method=api uses Nova evacuate after forcing the service down (supported); method=db rewrites the hosts in the nova and neutron databases as the chapter does, keeping the prior rows so it can be undone. Needs shared storage for /var/lib/nova/instances.',
    positionals: [pos('from-host', HOST, 'The failed node.', 'from'), pos('to-host', HOST, 'The node that takes its instances.', 'to')],
    options: [opt('method', choice(['api', 'db']), 'api: Nova evacuate; db: the chapter\'s SQL.', { default: 'api', defaultText: 'api' }), REASON_OPTION],
    check: differentHosts('from', 'from-host', 'to', 'to-host'),
    kind: 'runbook',
    effect: 'destructive',
    approval: 'always',
    examples: ['evacuate c01 c02 reason="mainboard dead"', 'evacuate c01 c02 method=db reason=INC-4711'],
  }),
  command({
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
  }),
  command({
    family: 'node',
    words: ['status'],
    summary: 'Show a node: compute service state, instances, any operation on it.',
    description: 'Read-only: the compute service state and reason, the instances on the node, and any operation holding it.',
    positionals: [pos('host', HOST, 'The compute node.')],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['status c01'],
  }),
  command({
    family: 'node',
    words: ['list'],
    summary: 'List compute nodes and their service state.',
    description: 'Read-only: compute nodes, a page at a time, optionally only those up, down, enabled or disabled.',
    options: [
      opt('page', intRange(1, 1000), 'Which page of the list.', { default: 1, defaultText: '1' }),
      opt('state', choice(['up', 'down', 'enabled', 'disabled']), 'Only nodes in this state.', { defaultText: 'all' }),
    ],
    kind: 'query',
    effect: 'read',
    approval: 'never',
    examples: ['list', 'list state=disabled page=2'],
  }),
  command({
    family: 'instance',
    words: ['inspect'],
    summary: "Read files from a failed instance's disk (user data: approval always needed).",
    description:
      'On the instance\'s compute node: suspends it, exposes its disk read-only, mounts it read-only, shows the listing or file at path, then always unmounts, disconnects and resumes the instance, even when an earlier step failed.',
    positionals: [pos('uuid', UUID, 'The instance.', 'instance')],
    options: [
      REASON_OPTION,
      opt('path', PATH, 'What to show inside the guest file system (a directory is listed).', { default: '/', defaultText: '/' }),
      opt('device', choice(['disk', 'disk.local']), 'Which disk: the root disk or the ephemeral disk.local.', { default: 'disk', defaultText: 'disk' }),
    ],
    kind: 'runbook',
    effect: 'change',
    approval: 'always',
    examples: ['inspect 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 reason="INC-4711 recover config" path=/etc/fstab'],
  }),
  command({
    family: 'volume',
    words: ['reattach'],
    summary: 'Re-attach the volumes of the instances on a node (same mount points), after they booted.',
    description:
      'Lists the instance/volume pairs on the node and, once each instance has booted, removes and adds its volumes again at the same device.',
    positionals: [pos('host', HOST, 'The compute node.')],
    options: [opt('instance', UUID, 'Only this instance.', { defaultText: 'every instance on the node' })],
    kind: 'runbook',
    effect: 'change',
    approval: 'policy',
    examples: ['reattach c01', 'reattach c01 instance=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'],
  }),
  command({
    family: 'ip',
    words: ['port', 'create'],
    summary: 'Create a port named after an FQDN on the public network; report its IPs.',
    description: 'Creates a Neutron port named after the FQDN on the network and reports its IPv4/IPv6 fixed IPs, for `openstack server create --nic port-id=…`.',
    positionals: [pos('fqdn', { ...HOST, placeholder: '<fqdn>', expected: 'a fully qualified domain name such as example-fqdn-01.sys.example.com' }, 'The name of the port (the future server\'s FQDN).')],
    options: [opt('network', NETWORK, 'The network.', { defaultText: "the cloud's public network (Public_AGILE in the runbook)" })],
    kind: 'runbook',
    effect: 'change',
    approval: 'policy',
    examples: ['port create example-fqdn-01.sys.example.com', 'port create example-fqdn-01.sys.example.com network=Public_AGILE'],
  }),
  command({
    family: 'ip',
    words: ['detach'],
    summary: 'Detach the port holding an IP from its instance, so the instance can go and the IP stays.',
    description: "Finds the port holding the IP and clears its device and binding, so the instance can be deleted and the port reused with --nic port-id.",
    positionals: [pos('ip', IP, 'The IP address.')],
    kind: 'runbook',
    effect: 'change',
    approval: 'policy',
    examples: ['detach 96.118.182.107'],
  }),
  command({
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
  }),
  command({
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
  }),
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
