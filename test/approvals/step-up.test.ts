// Step-up of the user-data class: with `userData.totp`, an approver's click alone approves nothing;
// the code of their own authenticator (RFC 6238 via otpauth) must come with it.
import { Secret, TOTP } from 'otpauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../core/clock.js';
import { ConfigError, NotAuthorizedError } from '../../core/errors.js';
import { Approvals } from '../../approvals/approvals.js';
import { approvalsConfigSchema } from '../../approvals/approvals-config.js';
import { parseTotpSecrets } from '../../approvals/step-up.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { baseConfig, groupTable, lead, newOperation, ops, privacy, resolverOver, start } from './fixtures.js';

const PIA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DP';
const code = (secret: string, at: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: at });

let clock: ManualClock;
let store: Store;
let approvals: Approvals;
beforeEach(async () => {
  clock = start();
  store = await openStore({ kind: 'sqlite', path: ':memory:' }, clock);
  approvals = new Approvals({
    store,
    config: approvalsConfigSchema.parse({ ...baseConfig, userData: { approvers: { groups: ['S0PRIVACY'] }, totp: {} } }),
    groups: resolverOver(groupTable()),
    totpSecrets: parseTotpSecrets(`${privacy.pia.userId}=${PIA_SECRET}`, 'CHATOPS_TOTP_SECRETS'),
  });
});
afterEach(() => store.close());

async function request() {
  const { operation, plan } = await newOperation(store, 'instance.inspect', 'change');
  return (await approvals.request({ operation, plan: { ...plan, args: { reason: 'INC-4711 read config' } }, purpose: 'start', requester: ops.alice }))!;
}

describe('user-data step-up (TOTP)', () => {
  it('records the step-up in the request, and refuses a click without a code, a wrong code, a stale code', async () => {
    const a = await request();
    expect(a.policy).toMatchObject({ stepUp: 'totp' });
    expect(approvals.needsStepUp(a)).toBe(true);
    await expect(approvals.approve(a.id, privacy.pia)).rejects.toThrow(/needs your TOTP code/);
    await expect(approvals.approve(a.id, privacy.pia, { totp: '000000' === code(PIA_SECRET, clock.now()) ? '111111' : '000000' })).rejects.toThrow(
      NotAuthorizedError,
    );
    await expect(approvals.approve(a.id, privacy.pia, { totp: code(PIA_SECRET, clock.now() - 10 * 60_000) })).rejects.toThrow(/not valid now/);
    const audit = await store.listAudit({ operationId: a.operationId });
    expect(audit.filter((e) => e.kind === 'approval.refused')).toHaveLength(3);
    expect((await store.getApproval(a.id))!.state).toBe('pending');
  });

  it('approves with the current code of the approver’s own secret', async () => {
    const a = await request();
    expect(await approvals.approve(a.id, privacy.pia, { totp: code(PIA_SECRET, clock.now()) })).toMatchObject({ state: 'approved' });
  });

  it('an approver without an enrolled secret cannot approve, whatever code; the eligibility rules still come first', async () => {
    const a = await request();
    await expect(approvals.approve(a.id, privacy.pat, { totp: code(PIA_SECRET, clock.now()) })).rejects.toThrow(/no TOTP secret enrolled/);
    await expect(approvals.approve(a.id, lead, { totp: code(PIA_SECRET, clock.now()) })).rejects.toThrow(/may not approve/);
  });

  it('a code approves once (RFC 6238 §5.2): the same code on another request, even a code of the previous step, is refused; the next step works', async () => {
    const a = await request();
    const b = await request();
    const now = code(PIA_SECRET, clock.now());
    expect(await approvals.approve(a.id, privacy.pia, { totp: now })).toMatchObject({ state: 'approved' });
    await expect(approvals.approve(b.id, privacy.pia, { totp: now })).rejects.toThrow(/already used/);
    clock.advance(30_000); // the code is still inside the ±1 step window, and still used
    await expect(approvals.approve(b.id, privacy.pia, { totp: now })).rejects.toThrow(/already used/);
    expect((await store.getApproval(b.id))!.state).toBe('pending');
    expect(JSON.stringify(await store.listAudit({ operationId: b.operationId }))).toContain('totp replayed');
    expect(await approvals.approve(b.id, privacy.pia, { totp: code(PIA_SECRET, clock.now()) })).toMatchObject({ state: 'approved' });
  });

  it('stepUpFor: refuses (audited) someone who may not approve or has no secret, before any code is asked', async () => {
    const a = await request();
    expect(await approvals.stepUpFor(a.id, privacy.pia)).toBe(true);
    await expect(approvals.stepUpFor(a.id, lead)).rejects.toThrow(/may not approve/);
    await expect(approvals.stepUpFor(a.id, privacy.pat)).rejects.toThrow(/no TOTP secret enrolled/);
    await expect(approvals.stepUpFor(a.id, ops.alice)).rejects.toThrow(NotAuthorizedError);
    expect((await store.listAudit({ operationId: a.operationId })).filter((e) => e.kind === 'approval.refused')).toHaveLength(3);
  });

  it('reads the secrets from the environment once, refusing a malformed variable without echoing it', () => {
    expect(parseTotpSecrets(undefined, 'X').size).toBe(0);
    expect(() => parseTotpSecrets('U0PIA=not-base32!', 'CHATOPS_TOTP_SECRETS')).toThrow(ConfigError);
    try {
      parseTotpSecrets('U0PIA=not-base32!', 'CHATOPS_TOTP_SECRETS');
    } catch (e) {
      expect((e as Error).message).toContain('CHATOPS_TOTP_SECRETS');
      expect((e as Error).message).not.toContain('not-base32');
    }
  });
});
