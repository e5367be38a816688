/**
 * The steps of `/instance inspect`, each on the instance's compute node over SSH: find the domain,
 * suspend it, expose its disk read-only, mount it read-only, read what was asked; then, always
 * (after a failure, an abort, a restart, the time box), unmount, disconnect and resume. A step
 * whose run was cut short (in doubt) reads the node before anything is repeated (`reconcile`);
 * unmount and disconnect are idempotent on the node, and resume reads the domain's state first
 * (`check`), so each SSH round trip (~0.8 s on the lab) is spent only where it decides something.
 */
import { createHash } from 'node:crypto';
import {
  disconnectDisk,
  exposeDisk,
  inspectDir,
  mountDisk,
  nodeIsClean,
  nodeState,
  parseNodeState,
  parseRead,
  readGuestPath,
  resumeDomain,
  suspendDomain,
  unmountDisk,
  type DiskFormat,
  type NodeState,
  type ReadResult,
} from '../../adapters/ssh/inspect-commands.js';
import type { RemoteCommand } from '../../adapters/ssh.js';
import { ChatOpsError } from '../../core/errors.js';
import { formatDuration } from '../../core/values.js';
import type { ExecutableStep, JsonValue, StepContext } from '../../engine/runbook.js';
import { cloudOf, type CloudDeps, type NodeDeps } from '../deps.js';

/** What the steps need, rebuilt from the stored plan. */
export interface InspectPlanData {
  uuid: string;
  name: string;
  host: string;
  domain: string;
  disk: string;
  device: string;
  format: DiskFormat;
  method: 'nbd' | 'fuse';
  path: string;
  reason: string;
  /** The guest was paused before: it is neither suspended nor resumed by the bot. */
  wasPaused: boolean;
  timeBoxMs: number;
  workDir: string;
  requester: { userId: string; teamId: string };
}

/** Bytes of a file shown to the requester; a listing's bytes likewise. */
export const SHOW_CAP_BYTES = 16 * 1024;
/** Entries of a directory listing shown. */
export const LIST_CAP_ENTRIES = 200;

type Step = ExecutableStep<NodeDeps>;

const eq = (c: CloudDeps | undefined, host: string, cmd: RemoteCommand) => (c ? c.shell.equivalent(host, cmd, { sudo: c.sudo }) : `ssh ${host} ${cmd.display}`);

async function run(c: CloudDeps, d: InspectPlanData, cmd: RemoteCommand, ctx: StepContext<NodeDeps>, timeoutMs = 60_000, okExitCodes: readonly number[] = [0]) {
  await ctx.audit('ssh-command', { host: d.host, command: cmd.display });
  return c.shell.run(d.host, cmd, { sudo: c.sudo, timeoutMs, okExitCodes });
}

export async function readNode(c: CloudDeps, d: InspectPlanData, dir: string): Promise<NodeState> {
  const r = await c.shell.run(d.host, nodeState(dir, d.domain), {
    sudo: c.sudo,
    timeoutMs: 30_000,
  });
  return parseNodeState(r.stdout);
}

/**
 * The time box: counted from the moment the guest was paused (the suspend step's output, so it
 * survives a restart; from the expose step when the guest was paused before). A step inside it
 * gets what is left; past it, it fails at once and only the clean-up runs.
 */
function remaining(ctx: StepContext<NodeDeps>, d: InspectPlanData, stepTitle: string): number {
  const c = cloudOf(ctx.deps);
  const start = (ctx.outputs['suspend'] as { at?: number } | undefined)?.at ?? (ctx.outputs['expose'] as { at?: number } | undefined)?.at ?? c.clock.now();
  const left = start + d.timeBoxMs - c.clock.now();
  if (left <= 0) {
    throw new ChatOpsError(
      'TIMEOUT',
      `the time box of ${formatDuration(d.timeBoxMs)} ran out before "${stepTitle}": nothing more is read; the disk is unmounted and disconnected and the instance resumed`,
      {
        details: { timeBoxMs: d.timeBoxMs },
      },
    );
  }
  return Math.max(1000, left);
}

export function inspectSteps(d: InspectPlanData, c: CloudDeps | undefined, opDir: (ctx: StepContext<NodeDeps>) => string): Step[] {
  const dirShown = `${d.workDir}/<operation>`;
  const shown = inspectDir(d.workDir, 'op-xxxxxxxxxxxx');
  const show = (cmd: RemoteCommand) => eq(c, d.host, cmd).replaceAll(shown, dirShown);
  const steps: Step[] = [];

  steps.push({
    id: 'find-domain',
    title: `Find the libvirt domain ${d.domain} of ${d.name} on ${d.host}`,
    equivalent: [`ssh ${d.host} virsh domstate ${d.domain}`],
    effect: 'read',
    touches: [d.host, d.uuid],
    reconcile: async () => ({
      state: 'not-done',
      detail: 'read-only step: read again',
    }),
    async run(ctx) {
      const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
      const ok = d.wasPaused ? s.state === 'paused' : s.state === 'running' || s.state === 'paused';
      if (!ok)
        throw new ChatOpsError(
          'STEP_FAILED',
          `the domain ${d.domain} on ${d.host} is "${s.state ?? 'unknown'}", not ${d.wasPaused ? 'paused' : 'running'} as planned: nothing was done`,
          { details: { state: s.state ?? null } },
        );
      return { state: s.state ?? null };
    },
  });

  if (!d.wasPaused) {
    steps.push({
      id: 'suspend',
      title: `Suspend ${d.domain} (the guest stays paused at most ${formatDuration(d.timeBoxMs)})`,
      equivalent: [eq(c, d.host, suspendDomain(d.domain))],
      effect: 'change',
      touches: [d.uuid],
      async reconcile(ctx) {
        const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
        return s.state === 'paused'
          ? {
              state: 'done',
              detail: 'the domain is paused',
              output: { at: cloudOf(ctx.deps).clock.now() },
            }
          : {
              state: 'not-done',
              detail: `the domain is ${s.state ?? 'unknown'}`,
            };
      },
      async run(ctx) {
        const cd = cloudOf(ctx.deps);
        await run(cd, d, suspendDomain(d.domain), ctx, 30_000);
        return { at: cd.clock.now() };
      },
    });
  }

  steps.push({
    id: 'expose',
    title: `Expose ${d.device} read-only (${d.method === 'fuse' ? 'qemu-storage-daemon FUSE export + read-only loop device' : 'qemu-nbd'}, force-share: the paused QEMU holds the image lock)`,
    equivalent: [show(exposeDisk(d.method, shown, d.disk, d.format))],
    effect: 'change',
    touches: [d.host, d.disk],
    async reconcile(ctx) {
      const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
      const attached = s.dev !== undefined && (d.method === 'nbd' || (s.loops.includes(s.dev) && s.qsd !== undefined));
      return attached
        ? {
            state: 'done',
            detail: `${s.dev} is attached`,
            output: { dev: s.dev ?? null, at: cloudOf(ctx.deps).clock.now() },
          }
        : { state: 'not-done', detail: 'no device attached' };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      const left = remaining(ctx, d, this.title);
      const r = await run(cd, d, exposeDisk(d.method, opDir(ctx), d.disk, d.format), ctx, left);
      return {
        dev: r.stdout.split('\n')[0]?.trim() ?? null,
        at: cd.clock.now(),
      };
    },
  });

  steps.push({
    id: 'mount',
    title: "Mount the file system read-only (ro,noload: a failed guest's journal is not replayed), nosuid,nodev,noexec",
    equivalent: [show(mountDisk(shown))],
    effect: 'change',
    touches: [d.host],
    async reconcile(ctx) {
      const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
      return s.mounted ? { state: 'done', detail: 'mounted' } : { state: 'not-done', detail: 'not mounted' };
    },
    async run(ctx) {
      const left = remaining(ctx, d, this.title);
      const r = await run(cloudOf(ctx.deps), d, mountDisk(opDir(ctx)), ctx, left);
      return { device: r.stdout.trim().replace(/^mounted:/, '') };
    },
  });

  steps.push({
    id: 'read',
    title: `Read ${d.path} (the content goes only to the requester; the thread gets path, size and SHA-256)`,
    equivalent: [show(readGuestPath(shown, d.path, SHOW_CAP_BYTES))],
    effect: 'read',
    touches: [d.uuid],
    reconcile: async () => ({
      state: 'not-done',
      detail: 'read-only step: read again',
    }),
    async run(ctx) {
      const left = remaining(ctx, d, this.title);
      const r = await run(cloudOf(ctx.deps), d, readGuestPath(opDir(ctx), d.path, SHOW_CAP_BYTES), ctx, left);
      const got = parseRead(r.stdout);
      const summary = describe(d, got);
      // The audit log keeps what was read and by whom, never the content.
      await ctx.audit('note', {
        read: d.path,
        by: d.requester.userId,
        ...summary.audit,
      });
      if (summary.failure)
        throw new ChatOpsError('STEP_FAILED', summary.failure, {
          details: summary.audit,
        });
      ctx.privately(summary.privateText);
      ctx.milestone(summary.threadLine);
      return summary.audit;
    },
  });

  steps.push({
    id: 'unmount',
    title: 'Unmount (always runs)',
    equivalent: [show(unmountDisk(shown))],
    effect: 'change',
    always: true,
    touches: [d.host],
    async reconcile(ctx) {
      const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
      return s.mounted ? { state: 'not-done', detail: 'still mounted' } : { state: 'done', detail: 'nothing mounted' };
    },
    async run(ctx) {
      await run(cloudOf(ctx.deps), d, unmountDisk(opDir(ctx)), ctx);
    },
  });

  steps.push({
    id: 'disconnect',
    title: `Disconnect the device${d.method === 'fuse' ? ', stop the export' : ''} and remove the work directory (always runs)`,
    equivalent: [show(disconnectDisk(shown))],
    effect: 'change',
    always: true,
    touches: [d.host],
    async reconcile(ctx) {
      const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
      return nodeIsClean(s) ? { state: 'done', detail: 'nothing attached' } : { state: 'not-done', detail: `left: ${leftovers(s)}` };
    },
    async run(ctx) {
      const cd = cloudOf(ctx.deps);
      await run(cd, d, disconnectDisk(opDir(ctx)), ctx);
      const s = await readNode(cd, d, opDir(ctx));
      if (!nodeIsClean(s))
        throw new ChatOpsError('STEP_FAILED', `the node still holds ${leftovers(s)} for this inspection`, { details: { left: leftovers(s) } });
    },
  });

  if (!d.wasPaused) {
    steps.push({
      id: 'resume',
      title: `Resume ${d.domain} (always runs)`,
      equivalent: [eq(c, d.host, resumeDomain(d.domain))],
      effect: 'change',
      always: true,
      touches: [d.uuid],
      async check(ctx) {
        const s = await readNode(cloudOf(ctx.deps), d, opDir(ctx));
        return s.state === 'paused'
          ? { state: 'not-done', detail: 'the domain is paused' }
          : { state: 'done', detail: `the domain is ${s.state ?? 'unknown'}` };
      },
      async run(ctx) {
        await run(cloudOf(ctx.deps), d, resumeDomain(d.domain), ctx, 30_000);
      },
    });
  }
  return steps;
}

function leftovers(s: NodeState): string {
  return [
    s.mounted ? 'a mount' : '',
    ...s.loops.map((l) => `loop device ${l}`),
    s.dev && !s.loops.includes(s.dev) ? `device ${s.dev}` : '',
    s.qsd ? `export process ${s.qsd}` : '',
    s.export ? 'the FUSE export' : '',
    s.dir ? 'the work directory' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Text that is safe inside a Slack code block (no closing fence, no mention syntax). */
function codeBlock(s: string): string {
  return '```\n' + s.replaceAll('```', '`\u200b``').replaceAll('<', '&lt;').replaceAll('>', '&gt;') + '\n```';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function asText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return utf8.decode(b);
  } catch {
    // A cut in the middle of a multi-byte character at the cap is still text.
    try {
      return utf8.decode(b.subarray(0, Math.max(0, b.length - 3)));
    } catch {
      return undefined;
    }
  }
}

interface Described {
  audit: Record<string, JsonValue>;
  privateText: string;
  threadLine: string;
  failure?: string;
}

/** What the requester sees, what the thread and the audit log keep, or why nothing is shown. */
export function describe(d: InspectPlanData, got: ReadResult): Described {
  const who = `<@${d.requester.userId}>`;
  const head = `:lock: Only you can see this. \`/instance inspect\` of ${d.name} (${d.uuid}), ${d.device}:`;
  switch (got.kind) {
    case 'file': {
      const text = asText(got.content);
      const cut = got.size > got.content.length;
      const body =
        text === undefined
          ? `_binary file: not shown (size and SHA-256 above)_`
          : `${codeBlock(text)}${cut ? `\n_first ${got.content.length} of ${got.size} bytes shown_` : ''}`;
      return {
        audit: {
          kind: 'file',
          path: d.path,
          size: got.size,
          mode: got.mode,
          sha256: got.sha256,
          binary: text === undefined,
          shownBytes: text === undefined ? 0 : got.content.length,
        },
        privateText: `${head} \`${d.path}\` — ${got.size} bytes, mode ${got.mode}, SHA-256 \`${got.sha256}\`\n${body}`,
        threadLine: `:mag: ${who} read \`${d.path}\` from ${d.name}: file, ${got.size} bytes, SHA-256 \`${got.sha256}\`${text === undefined ? ' (binary: not shown)' : ''}`,
      };
    }
    case 'dir': {
      const sha = createHash('sha256').update(got.listingBytes).digest('hex');
      const shownEntries = got.listing.slice(0, LIST_CAP_ENTRIES);
      const lines = shownEntries.map(
        (e) =>
          `${e.type} ${e.mode.padStart(4)} ${String(e.size).padStart(10)} ${e.name}${e.type === 'd' ? '/' : e.type === 'l' ? ' (symlink, not followed)' : ''}`,
      );
      const more = got.entries > shownEntries.length ? `\n_${shownEntries.length} of ${got.entries} entries shown_` : '';
      return {
        audit: { kind: 'dir', path: d.path, entries: got.entries, sha256: sha },
        privateText: `${head} \`${d.path}\` — directory, ${got.entries} entries (type, mode, size, name)\n${codeBlock(lines.join('\n') || '(empty)')}${more}`,
        threadLine: `:mag: ${who} listed \`${d.path}\` on ${d.name}: directory, ${got.entries} entries, SHA-256 of the listing \`${sha}\``,
      };
    }
    case 'symlink':
      return {
        audit: { kind: 'symlink', path: d.path, at: got.at },
        privateText: '',
        threadLine: '',
        failure: `\`${got.at}\` is a symlink inside the guest (to \`${got.target}\`): symlinks are never followed, since on the node they could lead outside the guest's file system. Ask for the target's own path instead`,
      };
    case 'missing':
      return {
        audit: { kind: 'missing', path: d.path, at: got.at },
        privateText: '',
        threadLine: '',
        failure: `\`${got.at}\` does not exist in the guest's file system`,
      };
    default:
      return {
        audit: { kind: 'other', path: d.path, type: got.type },
        privateText: '',
        threadLine: '',
        failure: `\`${d.path}\` is a ${got.type}, neither a regular file nor a directory: not read`,
      };
  }
}
