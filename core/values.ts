/**
 * Validated primitives shared by the grammar, the runbooks and the adapters. Whatever passes these
 * schemas is safe to place in an argv element, a fixed shell template (still quoted) or a SQL
 * parameter: none of them admits shell or SQL metacharacters, whitespace, control characters or a
 * leading '-'.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * RFC 1123 host name: dot-separated labels of [a-z0-9-], no leading/trailing '-', no "--",
 * ≤ 253 chars. Lower-cased. Nothing is trimmed: surrounding whitespace is refused, not silently dropped. The
 * ASCII check runs before lower-casing because some non-ASCII letters lower-case to ASCII
 * (KELVIN SIGN U+212A becomes "k").
 */
export const hostName = z
  .string()
  .min(1, 'a host name is required')
  .max(253, 'a host name has at most 253 characters')
  .regex(/^[A-Za-z0-9.-]+$/, 'expected a host name (RFC 1123 labels of letters, digits and "-", separated by ".", not starting with "-")')
  .transform((s) => s.toLowerCase())
  .refine((s) => s.split('.').every((l) => LABEL.test(l)), {
    message: 'expected a host name (RFC 1123 labels of letters, digits and "-", separated by ".", not starting with "-")',
  })
  // "--" opens an SQL comment. It also refuses punycode labels (xn--…), which compute hosts don't use.
  .refine((s) => !s.includes('--'), 'a host name may not contain "--"');
export type HostName = z.infer<typeof hostName>;

/** Canonical lower-case UUID (8-4-4-4-12 hex). Upper case is refused rather than silently changed. */
export const uuid = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'expected a UUID in canonical lower-case form, e.g. 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  );
export type Uuid = z.infer<typeof uuid>;

/** Canonical form of an IPv4 or IPv6 address, or undefined when it is not one. */
export function canonicalIp(s: string): string | undefined {
  const v = isIP(s);
  if (v === 4) {
    const parts = s.split('.');
    // Refuse leading zeros ("010.0.0.1" is octal to some tools, decimal to others).
    if (parts.some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
    return s;
  }
  if (v === 6) {
    if (s.includes('%')) return undefined; // zone ids are host-local; never meaningful in a cloud
    try {
      return new URL(`http://[${s}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** An IPv4 or IPv6 address; the value becomes its canonical form (IPv6 compressed, lower-case). */
export const ipAddress = z.string().transform((s, ctx) => {
  const c = canonicalIp(s);
  if (c === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an IPv4 address (e.g. 96.118.182.107) or an IPv6 address (e.g. 2001:db8::7)' });
    return z.NEVER;
  }
  return c;
});

/** TCP port 1–65535, as digits only. */
export const port = z
  .string()
  .regex(/^[0-9]{1,5}$/, 'expected a TCP port number 1-65535')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, 'expected a TCP port number 1-65535');

/**
 * Free text a human gives as a reason. Bounded, printable, single line; it is only ever passed as a
 * value (API body field, SQL parameter, argv element), never interpolated into a command string.
 * Still, characters that have no business in a reason are refused so a reason can't smuggle them:
 * only letters and digits of any script (after NFC normalisation) and ` . , : _ / @ + = -`; no
 * quotes, no shell or SQL metacharacters, no `--`, no control or format characters. Surrounding
 * spaces are dropped and runs of spaces become one.
 */
export const reason = z
  .string()
  .transform((s) =>
    s
      .normalize('NFC')
      .replace(/^ +| +$/g, '')
      .replace(/ {2,}/g, ' '),
  )
  .pipe(
    z
      .string()
      .min(3, 'a reason needs at least 3 characters')
      .max(255, 'a reason has at most 255 characters (Nova keeps 255)')
      .regex(/^[\p{L}\p{N} .,:_/@+=-]+$/u, 'a reason may contain letters, digits, spaces and . , : _ / @ + = - only (no quotes, ; # ( ) or other symbols)')
      // Compatibility forms must be clean too: "⑴" is a number, but NFKC (which some tools apply) makes it "(1)".
      .refine((s) => /^[\p{L}\p{N} .,:_/@+=-]+$/u.test(s.normalize('NFKC')), 'a reason may not contain symbols in disguise (such as ⑴, which reads as "(1)")')
      .refine((s) => !s.startsWith('-'), 'a reason may not start with "-"')
      .refine((s) => !s.includes('--'), 'a reason may not contain "--"'),
  );

/**
 * An OpenStack resource name as this bot accepts it (networks, ports): letters, digits, `_ . -`,
 * starting with a letter, digit or `_` (never `-`, never `.`), no "--", at most 255 characters. Neutron
 * itself allows more; names outside this set must be given by id.
 */
export const resourceName = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/,
    'expected a name of letters, digits, "_", "." and "-" (not starting with "-" or "."), at most 255 characters, e.g. Public_AGILE',
  )
  .refine((s) => !s.includes('--'), 'a name may not contain "--"');
/** A Neutron network name, e.g. Public_AGILE. */
export const networkName = resourceName;

const PATH_SEGMENT = /^[A-Za-z0-9_+@][A-Za-z0-9._+@-]{0,254}$/;
/**
 * An absolute POSIX path inside a guest file system (inspect runbook): "/" or "/"-separated
 * segments of letters, digits and `. _ - + @`; no "." or ".." segment, no segment starting with
 * "-" or ".", no "--", at most 1024 characters. Normalised: repeated and trailing "/" are removed.
 */
export const absolutePath = z
  .string()
  .max(1024, 'a path has at most 1024 characters')
  .transform((s, ctx) => {
    const segments = s.split('/').filter((seg, i) => i === 0 || seg !== '');
    if (!s.startsWith('/') || s.includes('--') || segments.slice(1).some((seg) => !PATH_SEGMENT.test(seg))) {
      ctx.addIssue({
        code: 'custom',
        message:
          'expected an absolute path such as /etc/fstab: "/"-separated names of letters, digits and . _ - + @ (no "..", no "--", no name starting with "." or "-", no spaces or symbols)',
      });
      return z.NEVER;
    }
    return segments.length === 1 ? '/' : segments.join('/');
  });

/** A duration such as 90s, 15m, 2h, 1d, 1h30m. Value in milliseconds. */
export const duration = z.string().transform((s, ctx) => {
  const m = /^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$/.exec(s);
  if (!m || s === '' || m.slice(1).every((g) => g === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 15m, 2h, 1d or 1h30m' });
    return z.NEVER;
  }
  const [d, h, mi, se] = m.slice(1).map((g) => Number(g ?? 0)) as [number, number, number, number];
  const ms = (((d * 24 + h) * 60 + mi) * 60 + se) * 1000;
  if (ms <= 0 || ms > 366 * 86400_000) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration greater than 0 and at most 366 days' });
    return z.NEVER;
  }
  return ms;
});

/** An absolute UTC time: 2026-12-01T02:00Z or 2026-12-01T02:00:00Z (Z required). Value: epoch ms. */
export const utcTime = z.string().transform((s, ctx) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?Z$/.exec(s);
  const t = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)) : NaN;
  const back = Number.isNaN(t) ? '' : new Date(t).toISOString();
  if (!m || back.slice(0, 16) !== s.slice(0, 16)) {
    ctx.addIssue({ code: 'custom', message: 'expected a UTC time such as 2026-12-01T02:00Z' });
    return z.NEVER;
  }
  return t;
});

/** Positive integer within bounds, digits only. */
export const boundedInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected a whole number from ${min} to ${max}`);

/** A Slack user id (U…/W…) or user-group id (S…). */
export const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'expected a Slack user id such as U024BE7LH');
export const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,20}$/, 'expected a Slack user group id such as S0614TZR7');

/** Our operation ids: op- followed by 12 lower-case base32 characters (store/ids.ts). */
export const operationId = z.string().regex(/^op-[a-z2-7]{12}$/, 'expected an operation id such as op-abcdefgh2345');

/** Our schedule ids: sc- followed by 12 lower-case base32 characters (store/ids.ts). */
export const scheduleId = z.string().regex(/^sc-[a-z2-7]{12}$/, 'expected a schedule id such as sc-abcdefgh2345');

/** The shortest text `duration` reads back as `ms` (e.g. 5_400_000 → "1h30m"). */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length ? parts.join('') : '0s';
}

/** The text `utcTime` reads back as `ms`: 2026-12-01T02:00Z, with seconds only when they are not zero. */
export function formatUtcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(17, 19) === '00' ? `${iso.slice(0, 16)}Z` : `${iso.slice(0, 19)}Z`;
}
