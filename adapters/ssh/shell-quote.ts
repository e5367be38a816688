/**
 * Remote commands are built only here: a fixed template (a string literal in the code) whose
 * `{name}` placeholders are filled with arguments that passed one of a closed set of validators,
 * each single-quoted. A chat string can't become a RemoteCommand: the template must be a literal
 * type, and values must come from `arg.*`.
 */
import { z } from 'zod';
import { absolutePath, hostName, ipAddress } from '../../core/values.js';
import { InputError } from '../../core/errors.js';

/** POSIX single quoting: the result is one shell word whose value is exactly `s`. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new InputError([{ path: 'argument', message: 'a shell argument cannot contain NUL' }], 'shell argument');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote only when needed: for the human-readable equivalent shown in plans. */
export function displayQuote(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : shellQuote(s);
}

const argBrand: unique symbol = Symbol('TemplateArg');
/** A validated template argument; only `arg.*` makes one. */
export interface TemplateArg {
  readonly [argBrand]: true;
  readonly kind: ArgKind;
  readonly value: string;
}
export type ArgKind = 'unit' | 'container' | 'path' | 'host' | 'int' | 'pattern' | 'choice' | 'guestPath' | 'domain' | 'ip' | 'fileName';

/** The whitelist of argument schemas. None admits a quote, control character or a leading '-'. */
export const argSchemas = {
  /** systemd unit / init script / service name. */
  unit: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9@._-]{0,127}$/, 'expected a service or unit name such as nova-compute'),
  /** Docker/Podman container name. */
  container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a container name such as nova_compute'),
  /** Absolute path of plain segments: no '..', no '//', no spaces. */
  path: z
    .string()
    .max(4096)
    .regex(/^(\/[A-Za-z0-9_@+=:,][A-Za-z0-9._@+=:,-]*)+\/?$/, 'expected an absolute path such as /var/log/nova/nova-compute.log')
    .refine((p) => !p.split('/').includes('..'), 'a path may not contain ".."'),
  host: hostName,
  /** Non-negative integer up to 10^9. */
  int: z.number().int().min(0).max(1_000_000_000),
  /** A fixed-string search pattern: printable ASCII words and spaces. */
  pattern: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 .,:_/=@+-]{0,199}$/, 'expected a plain search text of letters, digits, spaces and . , : _ / = @ + -'),
  /** A path inside a guest file system ("/" or plain segments; no "..", no name starting with "." or "-"). */
  guestPath: absolutePath,
  /** A libvirt domain name as Nova makes it (instance-0000002a). */
  domain: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a libvirt domain name such as instance-0000002a'),
  /** An IPv4 or IPv6 address in canonical form (digits, hex, '.' and ':' only). */
  ip: ipAddress,
  /** One name inside a directory (no '/', not '.' or '..', no leading '-'): `_base`, an instance's uuid, `disk.info`. */
  fileName: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._+@=:,-]{0,254}$/, 'expected a plain file name such as _base or disk.info'),
} as const;

function makeArg(kind: ArgKind, schema: z.ZodType<string | number>, v: unknown): TemplateArg {
  const r = schema.safeParse(v);
  if (!r.success) {
    throw new InputError([{ path: kind, message: r.error.issues.map((i) => i.message).join('; ') }], `template argument (${kind})`);
  }
  return Object.freeze({ [argBrand]: true as const, kind, value: String(r.data) });
}

/** Validators that make template arguments. Each throws InputError on a value that does not fit. */
export const arg = {
  unit: (v: string) => makeArg('unit', argSchemas.unit, v),
  container: (v: string) => makeArg('container', argSchemas.container, v),
  path: (v: string) => makeArg('path', argSchemas.path, v),
  host: (v: string) => makeArg('host', argSchemas.host, v),
  int: (v: number) => makeArg('int', argSchemas.int, v),
  pattern: (v: string) => makeArg('pattern', argSchemas.pattern, v),
  guestPath: (v: string) => makeArg('guestPath', argSchemas.guestPath, v),
  domain: (v: string) => makeArg('domain', argSchemas.domain, v),
  ip: (v: string) => makeArg('ip', argSchemas.ip, v),
  fileName: (v: string) => makeArg('fileName', argSchemas.fileName, v),
  /** One of a fixed set of words (e.g. start|stop|status). */
  choice: <T extends string>(v: T, allowed: readonly T[]) => {
    if (!allowed.includes(v)) throw new InputError([{ path: 'choice', message: `expected one of ${allowed.join(', ')}` }], 'template argument');
    return makeArg('choice', argSchemas.unit, v);
  },
} as const;

const ctorToken = Symbol('RemoteCommand');

/** The shell a template is written for: POSIX `sh` (the default), or `bash` where it needs bash (e.g. `/dev/tcp`). */
export type TemplateShell = 'sh' | 'bash';

/** A command ready to send: only `template()` makes one. */
export class RemoteCommand {
  /** The shell text sent to the node: template with each argument single-quoted. */
  readonly text: string;
  /** The same command as an operator would type it (minimal quoting), for plans and threads. */
  readonly display: string;
  private constructor(
    token: symbol,
    readonly template: string,
    readonly args: Readonly<Record<string, string>>,
    text: string,
    display: string,
    readonly shell: TemplateShell,
  ) {
    if (token !== ctorToken) throw new TypeError('RemoteCommand is made by template() only');
    this.text = text;
    this.display = display;
  }
}

type RemoteCommandCtor = new (
  token: symbol,
  template: string,
  args: Readonly<Record<string, string>>,
  text: string,
  display: string,
  shell: TemplateShell,
) => RemoteCommand;
// The constructor is private to this module: only template() below reaches it.
const makeCommand = (tpl: string, args: Record<string, string>, text: string, display: string, shell: TemplateShell): RemoteCommand =>
  new (RemoteCommand as unknown as RemoteCommandCtor)(ctorToken, tpl, Object.freeze({ ...args }), text, display, shell);

// Template text: printable ASCII without quotes, backslash or backtick; '{' only as a placeholder.
const TEMPLATE_OK = /^[\x20-\x7e]+$/;
const FORBIDDEN = /['"\\`]|\$\(/;

/**
 * Fill a fixed template. `tpl` must be a string literal (a plain `string` is a type error), each
 * `{name}` must have exactly one argument and every argument must be used.
 *
 *   template('systemctl stop {unit}', { unit: arg.unit('nova-compute') })
 *
 * `shell: 'bash'` runs the text under `bash -c` instead of `sh -c` (same rules for the text and the
 * arguments; the node must have bash).
 */
export function template<T extends string>(
  tpl: string extends T ? never : T,
  args: Readonly<Record<string, TemplateArg>>,
  opts: { shell?: TemplateShell } = {},
): RemoteCommand {
  const t: string = tpl;
  if (!TEMPLATE_OK.test(t) || FORBIDDEN.test(t)) throw new TypeError(`template has characters it may not contain: ${t}`);
  const used = new Set<string>();
  const fill = (quote: (s: string) => string) =>
    t.replace(/\{([a-zA-Z][a-zA-Z0-9]*)\}|[{}]/g, (m, name: string | undefined) => {
      if (name === undefined) throw new TypeError(`template has a stray "${m}": ${t}`);
      const a = args[name];
      if (a === undefined || a[argBrand] !== true) throw new TypeError(`template argument {${name}} is missing or not made by arg.*: ${t}`);
      used.add(name);
      return quote(a.value);
    });
  const text = fill(shellQuote);
  const display = fill(displayQuote);
  for (const k of Object.keys(args)) if (!used.has(k)) throw new TypeError(`template argument ${k} is not used by: ${t}`);
  const values = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v.value]));
  const shell = opts.shell ?? 'sh';
  return makeCommand(t, values, text, shell === 'bash' ? `bash -c ${displayQuote(display)}` : display, shell);
}

/** The command line an operator would type: `ssh c01 sudo systemctl stop nova-compute`. */
export function sshEquivalent(host: string, cmd: RemoteCommand, sudo = false): string {
  return `ssh ${displayQuote(host)} ${sudo ? 'sudo ' : ''}${cmd.display}`;
}

/**
 * The line sent to sshd. A command of plain words runs as is (`sudo -n -- systemctl stop 'x'`, so
 * a sudoers rule for that exact command matches); one with shell syntax (`if`, `|`, `;`) runs
 * under `sh -c`, a bash template always under `bash -c`. With `remoteTimeoutSec`, coreutils `timeout` bounds it on the node too, so it
 * dies even when the link to us does.
 */
export function remoteLine(cmd: RemoteCommand, o: { sudo: boolean; remoteTimeoutSec: number | undefined }): string {
  const simple = cmd.shell === 'sh' && /^[A-Za-z0-9_./{} =:,@+-]+$/.test(cmd.template);
  let line = simple ? cmd.text : `${cmd.shell} -c ${shellQuote(cmd.text)}`;
  if (o.sudo) line = `sudo -n -- ${line}`;
  if (o.remoteTimeoutSec !== undefined) line = `timeout -k 5 ${o.remoteTimeoutSec} ${line}`;
  return line;
}
