/**
 * `/node copy-instances <from-host> <to-host>` (runbook.md §7, locally stored instances): copies the
 * instances tree of a fenced node — `_base/` and the instance directories — to another node, through
 * the bot's SSH adapter (a `tar` stream from one node into the other, no SSH trust between the nodes
 * needed), never replacing anything: a name that exists on the destination is reported and left
 * alone. Each unit (an instance directory, or `_base` or one of its files) lands in a staging
 * directory on the destination first, its sizes and sha256 are compared with the source's, and only
 * then is it renamed into place (refused if the name appeared meanwhile). Undocumented and
 * unsupported upstream; the plan says so.
 */
import { posix } from 'node:path';
import { arg, fileExists, moveFile, template, type RemoteCommand } from '../../adapters/ssh.js';
import { ChatOpsError, InputError } from '../../core/errors.js';
import { defineRunbook, type ExecutableStep, type JsonValue, type Observation } from '../../engine/runbook.js';
import { command, differentHosts, pos } from '../../engine/spec/spec-builders.js';
import { usageOf } from '../../engine/spec/usage.js';
import { HOST } from '../../engine/spec/value-types.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';
import { describeEvidence, notDeadBecause, readFenceEvidence, type FenceEvidence } from '../steps/fencing.js';

export const copyInstancesSpec = command({
  family: 'node',
  words: ['copy-instances'],
  summary: 'Copy /var/lib/nova/instances of an offline node to another node (unsupported upstream).',
  description:
    'Copies the whole instances tree (the _base images and the instance directories) from a permanently offline node to another one. Names are unique across nodes, so nothing is overwritten. Undocumented upstream; the plan says so.',
  positionals: [pos('from-host', HOST, 'The offline node.', 'from'), pos('to-host', HOST, 'The node that receives the files.', 'to')],
  check: differentHosts('from', 'from-host', 'to', 'to-host'),
  kind: 'runbook',
  effect: 'destructive',
  approval: 'always',
  unsupported: 'Undocumented and unsupported upstream; it is the only way to save locally stored instances.',
  examples: ['copy-instances c01 c02'],
});

/** copy-instances' args (input-of.ts derives the schema from copyInstancesSpec). */
export type CopyInstancesArgs = { from: string; to: string };
const USAGE = usageOf(copyInstancesSpec);

/** What is copied: an instance directory, `_base` whole, or one file of `_base` (when `_base` exists on the destination). */
export interface CopyUnit {
  /** Path relative to the instances directory: `<uuid>`, `_base` or `_base/<file>`. */
  rel: string;
  kind: 'dir' | 'file';
  /** Regular files of the unit (relative to the instances directory) and their sizes. */
  files: { rel: string; size: number }[];
  [k: string]: JsonValue;
}

interface TreeEntry {
  type: 'f' | 'd' | 'l' | 'o';
  size: number;
  rel: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._+@=:,-]{0,254}$/;
const INSTANCE_DIR = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|instance-[0-9a-f]{8})$/;
const PLAN_FILE_LIMIT = 5000;

/** Every entry under `base` (type from the mode bits, size, path relative to base); [] when base does not exist. */
async function listTree(c: CloudDeps, host: string, base: string): Promise<{ exists: boolean; entries: TreeEntry[]; odd: string[] }> {
  const t = fileExists(base);
  const there = await c.shell.run(host, t.command, { okExitCodes: t.okExitCodes, sudo: c.sudo, timeoutMs: 30_000 });
  if (there.exitCode !== 0) return { exists: false, entries: [], odd: [] };
  const r = await c.shell.run(host, template('find {base} -mindepth 1 -print0 | xargs -0 -r stat -c %f:%s:%n', { base: arg.path(base) }), {
    sudo: c.sudo,
    timeoutMs: 300_000,
  });
  const entries: TreeEntry[] = [];
  const odd: string[] = [];
  const prefix = `${base.replace(/\/$/, '')}/`;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]+):(\d+):(.*)$/.exec(line);
    const rel = m?.[3]?.startsWith(prefix) ? m[3].slice(prefix.length) : undefined;
    if (!m || rel === undefined || !rel.split('/').every((seg) => NAME.test(seg))) {
      odd.push(line.slice(0, 200));
      continue;
    }
    const fmt = parseInt(m[1]!, 16) & 0xf000;
    const type = fmt === 0x8000 ? 'f' : fmt === 0x4000 ? 'd' : fmt === 0xa000 ? 'l' : 'o';
    entries.push({ type, size: Number(m[2]), rel });
  }
  if (r.stdoutTruncated)
    throw new ChatOpsError('STEP_FAILED', `the listing of ${base} on ${host} is longer than the SSH adapter keeps: too many files for one plan`);
  return { exists: true, entries, odd };
}

/** sha256 of every regular file under `path` (a file or a directory), keyed by the path relative to `relTo`. */
async function sha256s(c: CloudDeps, host: string, path: string, relTo: string): Promise<Map<string, string>> {
  const r = await c.shell.run(host, template('find {path} -type f -print0 | xargs -0 -r sha256sum', { path: arg.path(path) }), {
    sudo: c.sudo,
    timeoutMs: 3_600_000,
  });
  const out = new Map<string, string>();
  const prefix = `${relTo.replace(/\/$/, '')}/`;
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (m && m[2]!.startsWith(prefix)) out.set(m[2]!.slice(prefix.length), m[1]!);
  }
  return out;
}

/** The units to copy, what exists on the destination already, and what is not copied (and why). */
function planUnits(src: TreeEntry[], dst: TreeEntry[]): { units: CopyUnit[]; conflicts: string[]; skipped: string[] } {
  const dstNames = new Set(dst.map((e) => e.rel));
  const top = src.filter((e) => !e.rel.includes('/'));
  const filesUnder = (rel: string) =>
    src.filter((e) => e.type === 'f' && (e.rel === rel || e.rel.startsWith(`${rel}/`))).map((e) => ({ rel: e.rel, size: e.size }));
  const units: CopyUnit[] = [];
  const conflicts: string[] = [];
  const skipped: string[] = [];
  for (const e of top.sort((a, b) => a.rel.localeCompare(b.rel))) {
    if (e.rel === '_base' && e.type === 'd') {
      if (!dstNames.has('_base')) {
        units.push({ rel: '_base', kind: 'dir', files: filesUnder('_base') });
        continue;
      }
      for (const f of src.filter((x) => x.rel.startsWith('_base/') && x.rel.split('/').length === 2).sort((a, b) => a.rel.localeCompare(b.rel))) {
        if (f.type !== 'f') skipped.push(`${f.rel} (not a regular file)`);
        else if (dstNames.has(f.rel)) conflicts.push(f.rel);
        else units.push({ rel: f.rel, kind: 'file', files: [{ rel: f.rel, size: f.size }] });
      }
    } else if (INSTANCE_DIR.test(e.rel) && e.type === 'd') {
      if (dstNames.has(e.rel)) conflicts.push(e.rel);
      else units.push({ rel: e.rel, kind: 'dir', files: filesUnder(e.rel) });
    } else skipped.push(`${e.rel} (not _base or an instance directory)`);
  }
  return { units, conflicts, skipped };
}

const bytesText = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} B`);

/** Why the source is not fenced for a copy, or undefined when it is (Nova down, SSH works, nova-compute stopped). */
function notFencedBecause(e: FenceEvidence): string | undefined {
  if (e.ssh === 'unreachable') return `SSH to ${e.host} fails, so its files cannot be read (${e.sshDetail})`;
  return notDeadBecause(e);
}

function notFencedError(e: FenceEvidence, why: string, usage?: string): ChatOpsError {
  const msg = `${why}: ${describeEvidence(e)}. copy-instances reads the disks of a node that no longer runs them: stop nova-compute on ${e.host} (its guests with it), force its service down (/node evacuate does both, or openstack compute service set --down ${e.host} nova-compute) and ask again; the node must stay reachable over SSH.`;
  return usage ? new InputError([{ path: 'from', message: msg }], usage) : new ChatOpsError('STEP_FAILED', msg, { details: { host: e.host, evidence: e } });
}

type Step = ExecutableStep<NodeDeps>;
interface Data {
  from: string;
  to: string;
  fromBase: string;
  toBase: string;
  units: CopyUnit[];
  conflicts: string[];
}

const stageOf = (d: Data, opId: string) => `${d.toBase.replace(/\/$/, '')}/_chatops-copy-${opId}`;

/** The unit's source stream and the destination's staging extract (fixed templates; paths validated). */
function streamCommands(d: Data, u: CopyUnit, stageUnit: string): { from: RemoteCommand; to: RemoteCommand } {
  return {
    from: template('tar -C {dir} -cf - {name}', { dir: arg.path(posix.join(d.fromBase, posix.dirname(u.rel))), name: arg.fileName(posix.basename(u.rel)) }),
    // extracted under the unit's own relative path, so the staged copy sits at <stage>/<rel> like the original at <base>/<rel>
    to: template('rm -rf {stage} && mkdir -p {into} && tar -C {into} -xpf -', {
      stage: arg.path(stageUnit),
      into: arg.path(posix.join(stageUnit, posix.dirname(u.rel))),
    }),
  };
}

/** Do the unit's files on the destination have the source's sizes and sha256? */
async function compare(
  c: CloudDeps,
  d: Data,
  u: CopyUnit,
  fromSums: Map<string, string>,
  toRoot: string,
): Promise<{ same: boolean; detail: string; bytes: number }> {
  const dstSums = await sha256s(c, d.to, posix.join(toRoot, u.rel), toRoot);
  const differ: string[] = [];
  let bytes = 0;
  for (const f of u.files) {
    bytes += f.size;
    if (!fromSums.has(f.rel)) differ.push(`${f.rel}: no checksum on ${d.from}`);
    else if (dstSums.get(f.rel) !== fromSums.get(f.rel)) differ.push(`${f.rel}: ${dstSums.has(f.rel) ? 'sha256 differs' : 'missing'}`);
  }
  for (const k of dstSums.keys()) if (!u.files.some((f) => f.rel === k)) differ.push(`${k}: not in the plan`);
  return { same: differ.length === 0, detail: differ.slice(0, 5).join('; '), bytes };
}

function copyStep(d: Data, u: CopyUnit, c: CloudDeps | undefined): Step {
  const total = u.files.reduce((a, f) => a + f.size, 0);
  const src = posix.join(d.fromBase, u.rel);
  const dst = posix.join(d.toBase, u.rel);
  const sudo = c?.sudo ? 'sudo ' : '';
  const timeoutMs = 15 * 60_000 + Math.ceil(total / (10 * 2 ** 20)) * 1000;
  return {
    id: `copy:${u.rel}`,
    title: `Copy ${u.rel}${u.kind === 'dir' ? '/' : ''} (${u.files.length} file(s), ${bytesText(total)}) from ${d.from} to ${d.to}, never replacing`,
    equivalent: [
      `ssh ${d.from} ${sudo}tar -C ${posix.dirname(src)} -cf - ${posix.basename(src)} | ssh ${d.to} ${sudo}tar -C <staging> -xpf -`,
      `ssh ${d.from} ${sudo}sha256sum …; ssh ${d.to} ${sudo}sha256sum …  # must agree`,
      `ssh ${d.to} ${sudo}mv <staging>/${posix.basename(u.rel)} ${dst}  # refused if ${dst} exists`,
    ],
    effect: 'change',
    touches: [d.to],
    timeoutMs,
    async check(ctx): Promise<Observation> {
      const cd = cloudOf(ctx.deps);
      const t = fileExists(dst);
      const there = await cd.shell.run(d.to, t.command, { okExitCodes: t.okExitCodes, sudo: cd.sudo, timeoutMs: 30_000 });
      if (there.exitCode !== 0) return { state: 'not-done', detail: `${dst} does not exist on ${d.to}` };
      const fromSums = await sha256s(cd, d.from, src, d.fromBase);
      const r = await compare(cd, d, u, fromSums, d.toBase);
      // the same bytes: copied by an earlier attempt (or identical already); otherwise it is not ours: left alone
      return r.same
        ? {
            state: 'done',
            detail: `${dst} is on ${d.to} with the same sizes and sha256`,
            output: { rel: u.rel, result: 'copied', files: u.files.length, bytes: r.bytes },
          }
        : {
            state: 'done',
            detail: `${dst} exists on ${d.to} and differs (${r.detail}): left alone, never replaced`,
            output: { rel: u.rel, result: 'conflict', detail: r.detail },
          };
    },
    async run(ctx): Promise<JsonValue> {
      const cd = cloudOf(ctx.deps);
      if (!cd.shell.pipe) throw new ChatOpsError('CONFIG_INVALID', 'this SSH adapter cannot stream between nodes (RemoteShell.pipe)');
      const stageUnit = posix.join(stageOf(d, ctx.opId), String(d.units.indexOf(u)));
      const cmds = streamCommands(d, u, stageUnit);
      await ctx.save({ stage: stageUnit, target: dst });
      await ctx.audit('ssh-command', { host: d.from, to: d.to, command: cmds.from.display, into: cmds.to.display });
      const piped = await cd.shell.pipe({ host: d.from, cmd: cmds.from }, { host: d.to, cmd: cmds.to }, { sudo: cd.sudo, timeoutMs: timeoutMs - 60_000 });
      const fromSums = await sha256s(cd, d.from, src, d.fromBase);
      const staged = await compare(cd, d, u, fromSums, stageUnit);
      if (!staged.same)
        throw new ChatOpsError('STEP_FAILED', `the copy of ${u.rel} on ${d.to} does not match ${d.from}: ${staged.detail}; nothing was put in place`, {
          details: { unit: u.rel },
        });
      const move = moveFile(posix.join(stageUnit, u.rel), dst);
      await ctx.audit('ssh-command', { host: d.to, command: move.display });
      const mv = await cd.shell.run(d.to, move, { okExitCodes: [0, 17], sudo: cd.sudo });
      if (mv.exitCode === 17) {
        ctx.milestone(`${dst} appeared on ${d.to} during the copy: left alone, the copy stays in ${stageUnit} until the clean-up`);
        return { rel: u.rel, result: 'conflict', detail: 'appeared during the copy' };
      }
      return { rel: u.rel, result: 'copied', files: u.files.length, bytes: staged.bytes, streamed: piped.bytes };
    },
  };
}

function steps(d: Data, c: CloudDeps | undefined): Step[] {
  const readAgain = async (): Promise<Observation> => ({ state: 'not-done', detail: 'read-only step: read again' });
  return [
    {
      id: 'verify-fenced',
      title: `Check ${d.from} is fenced: Nova reports it down, SSH works and nova-compute does not run there`,
      equivalent: [`openstack compute service list --host ${d.from} --service nova-compute`, `ssh ${d.from} (the preset's status command)`],
      effect: 'read',
      touches: [d.from],
      reconcile: readAgain,
      async run(ctx) {
        const e = await readFenceEvidence(cloudOf(ctx.deps), d.from);
        const why = notFencedBecause(e);
        if (why) throw notFencedError(e, why);
        return { evidence: e };
      },
    },
    ...d.units.map((u) => copyStep(d, u, c)),
    {
      id: 'report',
      title: `Report what was copied, and what exists on ${d.to} and was left alone`,
      equivalent: [`ssh ${d.to} ls -la ${d.toBase}`],
      effect: 'read',
      reconcile: readAgain,
      async run(ctx) {
        let files = 0;
        let bytes = 0;
        const copied: string[] = [];
        const conflicts = [...d.conflicts];
        for (const u of d.units) {
          const o = ctx.outputs[`copy:${u.rel}`] as { result?: string; files?: number; bytes?: number; detail?: string } | undefined;
          if (o?.result === 'copied') {
            copied.push(u.rel);
            files += o.files ?? 0;
            bytes += o.bytes ?? 0;
          } else if (o?.result === 'conflict') conflicts.push(`${u.rel} (${o.detail ?? 'differs'})`);
        }
        ctx.milestone(
          `Copied ${copied.length} unit(s) from ${d.from} to ${d.to}: ${files} file(s), ${bytesText(bytes)}, sizes and sha256 verified${copied.length ? ` (${copied.slice(0, 20).join(', ')}${copied.length > 20 ? ', …' : ''})` : ''}.` +
            (conflicts.length
              ? ` ${conflicts.length} name(s) already on ${d.to}, left alone and never replaced: ${conflicts.slice(0, 20).join(', ')}${conflicts.length > 20 ? ', …' : ''}.`
              : ''),
        );
        return { copied, files, bytes, conflicts };
      },
    },
    {
      id: 'cleanup-staging',
      title: `Remove the staging directory on ${d.to}`,
      equivalent: [`ssh ${d.to} rm -rf ${d.toBase.replace(/\/$/, '')}/_chatops-copy-<operation>`],
      effect: 'change',
      touches: [d.to],
      always: true,
      // rm -rf is idempotent, but without a read-back a kill during it would leave the step in doubt
      // for an operator: the staging directory gone is the step done
      async check(ctx): Promise<Observation> {
        const cd = cloudOf(ctx.deps);
        const stage = stageOf(d, ctx.opId);
        const t = fileExists(stage);
        const there = await cd.shell.run(d.to, t.command, { okExitCodes: t.okExitCodes, sudo: cd.sudo, timeoutMs: 30_000 });
        return there.exitCode === 0 ? { state: 'not-done', detail: `${stage} is on ${d.to}` } : { state: 'done', detail: `no ${stage} on ${d.to}` };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        const cmd = template('rm -rf {stage}', { stage: arg.path(stageOf(d, ctx.opId)) });
        await ctx.audit('ssh-command', { host: d.to, command: cmd.display });
        await cd.shell.run(d.to, cmd, { sudo: cd.sudo, timeoutMs: 300_000 });
      },
    },
  ];
}

export const copyInstancesRunbook = defineRunbook<CopyInstancesArgs, NodeDeps>({
  spec: copyInstancesSpec,
  locks: (plan) => [plan.target, String(plan.args.to)],
  async plan(args, deps) {
    const c = cloudOf(deps);
    const bad = (path: string, message: string) => new InputError([{ path, message }], USAGE);
    if (args.from === args.to) throw bad('to', `the destination must be another host than ${args.from}`);
    const [src, dst] = await Promise.all([c.cloud.getComputeService(args.from, 'nova-compute'), c.cloud.getComputeService(args.to, 'nova-compute')]);
    if (!src) throw bad('from', `Nova has no nova-compute service on ${args.from}: expected a compute host of this cloud`);
    if (!dst) throw bad('to', `Nova has no nova-compute service on ${args.to}: expected a compute host of this cloud`);
    const evidence = await readFenceEvidence(c, args.from, src);
    const why = notFencedBecause(evidence);
    if (why) throw notFencedError(evidence, why, USAGE);
    const fromBase = c.instancesPath?.(args.from) ?? '/var/lib/nova/instances';
    const toBase = c.instancesPath?.(args.to) ?? '/var/lib/nova/instances';
    const [srcTree, dstTree] = await Promise.all([
      listTree(c, args.from, fromBase),
      listTree(c, args.to, toBase).catch((e: Error) => {
        throw bad('to', `cannot list ${toBase} on ${args.to} over SSH (${e.message.slice(0, 200)}): the destination must be reachable`);
      }),
    ]);
    if (!srcTree.exists) throw bad('from', `${fromBase} does not exist on ${args.from}: nothing to copy`);
    if (!dstTree.exists) throw bad('to', `${toBase} does not exist on ${args.to}: expected a compute node with Nova's instances directory`);
    const { units, conflicts, skipped } = planUnits(srcTree.entries, dstTree.entries);
    const fileCount = units.reduce((a, u) => a + u.files.length, 0);
    if (fileCount > PLAN_FILE_LIMIT) throw new ChatOpsError('STEP_FAILED', `${fileCount} files to copy: more than one plan shows (${PLAN_FILE_LIMIT})`);
    const total = units.reduce((a, u) => a + u.files.reduce((b, f) => b + f.size, 0), 0);
    const warnings = [
      ':warning: Unsupported upstream: copying the instances tree between nodes is undocumented; it is the only way to save locally stored instances (runbook §7). Nova is not told: the instances still belong to their host in its database.',
      `Fencing: ${describeEvidence(evidence)}.`,
      `From ${args.from}:${fromBase} to ${args.to}:${toBase}: ${units.length} unit(s), ${fileCount} file(s), ${bytesText(total)}. Each goes to a staging directory on ${args.to} first and is renamed into place only when its sizes and sha256 match; nothing on ${args.to} is ever replaced.`,
    ];
    if (conflicts.length)
      warnings.push(
        `${conflicts.length} name(s) already exist on ${args.to} and will NOT be copied (reported, never replaced): ${conflicts.slice(0, 20).join(', ')}.`,
      );
    if (skipped.length) warnings.push(`Not copied: ${skipped.slice(0, 20).join(', ')}.`);
    if (srcTree.odd.length) warnings.push(`${srcTree.odd.length} entr(ies) with unusual names are not copied: ${srcTree.odd.slice(0, 5).join(', ')}.`);
    if (!units.length) warnings.push(`Nothing to copy from ${args.from}.`);
    const data: Data = { from: args.from, to: args.to, fromBase, toBase, units, conflicts };
    return {
      target: args.from,
      args,
      resolved: { fromBase, toBase, units: units as unknown as JsonValue, conflicts, evidence: { nova: evidence.nova.state, ssh: evidence.ssh } },
      steps: steps(data, c),
      summary: `copy the instances tree of ${args.from} to ${args.to}: ${units.length} unit(s), ${bytesText(total)} (unsupported upstream)`,
      warnings,
    };
  },
  steps(plan, deps) {
    const a = plan.args as CopyInstancesArgs;
    const r = plan.resolved as { fromBase: string; toBase: string; units: CopyUnit[]; conflicts: string[] };
    return steps({ from: a.from, to: a.to, fromBase: r.fromBase, toBase: r.toBase, units: r.units, conflicts: r.conflicts }, deps.node);
  },
});
