/**
 * Step-up for user-data approvals: where `approvals.userData.totp` is configured, an approver also
 * gives a TOTP code (RFC 6238, checked with otpauth), so a stolen Slack session alone approves
 * nothing. Each approver's secret (base32) comes from the environment, never from the YAML:
 * `CHATOPS_TOTP_SECRETS="U0123ABCD=JBSWY3DPEHPK3PXP,U0456EFGH=…"` (the variable is configurable).
 */
import { Secret, TOTP } from 'otpauth';
import { ConfigError } from '../core/errors.js';

/** Slack user id → base32 secret, from `USER=SECRET` pairs separated by commas. */
export function parseTotpSecrets(raw: string | undefined, variable: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const pair of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([UW][A-Z0-9]{2,20})=([A-Z2-7]{16,128}=*)$/.exec(pair);
    // The pair itself is never echoed: it holds a secret.
    if (!m)
      throw new ConfigError(
        [{ path: variable, message: 'expected USERID=BASE32SECRET pairs separated by commas (e.g. U0123ABCD=JBSWY3DPEHPK3PXP)' }],
        'environment',
      );
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Whether `code` is the approver's current TOTP code (30 s steps, 6 digits, ±`window` steps). */
export function totpMatches(secret: string, code: string, now: number, window: number): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  return totp.validate({ token: code, timestamp: now, window }) !== null;
}
