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

/**
 * The time step (counter, 30 s each) of `code` when it is one of the approver's codes within
 * ±`window` steps of `now`, else null. The caller keeps each accepted step per approver so that a
 * code works once (RFC 6238 §5.2: the verifier must not accept the same code a second time).
 */
export function totpStep(secret: string, code: string, now: number, window: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  const delta = totp.validate({ token: code, timestamp: now, window });
  return delta === null ? null : totp.counter({ timestamp: now }) + delta;
}
