// The officer's session on this car's screen: sign on with badge + PIN against the sector roster,
// lock after an idle time, unlock with the PIN, sign off. The state lives here in the daemon, not
// in the browser: a reload, a crashed tab or a second tab cannot bypass a lock, and the idle timer
// runs even when the page is frozen. Every attempt is audit-logged (badge and outcome; never the
// PIN), and failures are rate limited for the whole car: one keyboard, one attacker.
import { EventEmitter } from 'node:events';
import type { Logger } from '../sync/logger.js';
import { findOfficer, hashPin, verifyPin, type Roster, type RosterOfficer, type RosterRole } from '../sync/roster.js';

export type SessionState = 'signed_off' | 'active' | 'locked';

/** What the page may know about the session: no PIN, no hash. */
export interface SessionView {
  state: SessionState;
  badge?: string;
  name?: string;
  role?: RosterRole;
  /** Epoch ms of sign-on. */
  since?: number;
  lockedBy?: 'idle' | 'manual';
  lockAfterMs: number;
  /** The roster this car holds: when it was built at the precinct, and how many officers. */
  roster: { at: number; officers: number } | null;
  /** While sign-on and unlock are refused after too many failures. */
  retryAt?: number;
}

export type SessionResult = { ok: true } | { ok: false; code: 'refused' | 'throttled' | 'no_roster' | 'invalid_state' | 'board'; message: string; retryAt?: number };

export interface SessionLimits {
  /** Failures allowed within windowMs before sign-on/unlock pause. */
  maxFailures: number;
  windowMs: number;
  /** First pause; each further failure while over the limit doubles it, up to maxLockoutMs. */
  lockoutMs: number;
  maxLockoutMs: number;
}

export const DEFAULT_LIMITS: SessionLimits = { maxFailures: 5, windowMs: 5 * 60_000, lockoutMs: 30_000, maxLockoutMs: 15 * 60_000 };

export interface SessionDeps {
  roster(): Roster | undefined;
  /** Writes the sign-on to the board (durable before it resolves). */
  signOn(officer: RosterOfficer): Promise<void>;
  signOff(officer: RosterOfficer): Promise<void>;
  lockAfterMs: number;
  log: Logger;
  now?: () => number;
  limits?: SessionLimits;
}

export class OfficerSession extends EventEmitter<{ change: [SessionView] }> {
  private state: SessionState = 'signed_off';
  private officer: RosterOfficer | undefined;
  private since: number | undefined;
  private lockedBy: 'idle' | 'manual' | undefined;
  private lastActivity = 0;
  private failures: number[] = [];
  private retryAt = 0;
  private lockouts = 0;
  private timer: NodeJS.Timeout | undefined;
  /** One PIN check at a time: parallel requests must not multiply the guessing rate. */
  private checking: Promise<unknown> = Promise.resolve();
  private dummyHash: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly limits: SessionLimits;

  constructor(private readonly deps: SessionDeps) {
    super();
    this.now = deps.now ?? Date.now;
    this.limits = deps.limits ?? DEFAULT_LIMITS;
  }

  view(): SessionView {
    const r = this.deps.roster();
    const v: SessionView = { state: this.state, lockAfterMs: this.deps.lockAfterMs, roster: r ? { at: r.at, officers: r.officers.length } : null };
    if (this.officer) {
      v.badge = this.officer.badge;
      v.name = this.officer.name;
      v.role = this.officer.role;
    }
    if (this.since !== undefined) v.since = this.since;
    if (this.state === 'locked' && this.lockedBy) v.lockedBy = this.lockedBy;
    if (this.retryAt > this.now()) v.retryAt = this.retryAt;
    return v;
  }

  isActive(): boolean {
    return this.state === 'active';
  }

  /** Officer activity on the screen: postpones the idle lock. */
  touch(): void {
    if (this.state !== 'active') return;
    this.lastActivity = this.now();
    this.schedule();
  }

  async signOn(badge: string, pin: string): Promise<SessionResult> {
    if (this.state !== 'signed_off') return { ok: false, code: 'invalid_state', message: `an officer is already signed on (${this.state === 'locked' ? 'screen locked: unlock or sign off first' : 'sign off first'})` };
    const roster = this.deps.roster();
    if (!roster || roster.officers.length === 0) {
      this.audit('warn', 'sign_on_refused', { badge, reason: 'no roster on this car' });
      return { ok: false, code: 'no_roster', message: 'This car has no roster yet: it must reach the precinct once before anyone can sign on.' };
    }
    const checked = await this.check(badge, pin, roster);
    if (!checked.ok) return checked.result;
    try {
      await this.deps.signOn(checked.officer);
    } catch (err) {
      this.audit('warn', 'sign_on_refused', { badge, reason: `board: ${(err as Error).message}` });
      return { ok: false, code: 'board', message: (err as Error).message };
    }
    this.state = 'active';
    this.officer = checked.officer;
    this.since = this.now();
    this.lockedBy = undefined;
    this.audit('info', 'sign_on', { badge, role: checked.officer.role });
    this.touch();
    this.changed();
    return { ok: true };
  }

  async unlock(pin: string): Promise<SessionResult> {
    if (this.state !== 'locked' || !this.officer) return { ok: false, code: 'invalid_state', message: 'the screen is not locked' };
    // The officer's own PIN from the roster as it is now: a PIN changed or an officer removed at
    // the precinct takes effect at the next unlock.
    const roster = this.deps.roster();
    const checked = await this.check(this.officer.badge, pin, roster, 'unlock');
    if (!checked.ok) return checked.result;
    this.state = 'active';
    this.lockedBy = undefined;
    this.audit('info', 'unlock', { badge: this.officer.badge });
    this.touch();
    this.changed();
    return { ok: true };
  }

  lock(by: 'idle' | 'manual'): void {
    if (this.state !== 'active') return;
    this.state = 'locked';
    this.lockedBy = by;
    this.clearTimer();
    this.audit('info', 'lock', { badge: this.officer?.badge, by });
    this.changed();
  }

  /** Sign off from an unlocked screen (a locked screen must be unlocked first). */
  async signOff(): Promise<SessionResult> {
    if (this.state !== 'active' || !this.officer) return { ok: false, code: 'invalid_state', message: 'no unlocked session to sign off' };
    try {
      await this.deps.signOff(this.officer);
    } catch (err) {
      return { ok: false, code: 'board', message: (err as Error).message };
    }
    this.audit('info', 'sign_off', { badge: this.officer.badge });
    this.state = 'signed_off';
    this.officer = undefined;
    this.since = undefined;
    this.clearTimer();
    this.changed();
    return { ok: true };
  }

  /** Checks the idle deadline now (the timer calls this; tests with a fake clock call it directly). */
  checkIdle(): void {
    if (this.state !== 'active') return;
    if (this.now() - this.lastActivity >= this.deps.lockAfterMs) this.lock('idle');
    else this.schedule();
  }

  dispose(): void {
    this.clearTimer();
  }

  private schedule(): void {
    this.clearTimer();
    const wait = Math.max(50, this.lastActivity + this.deps.lockAfterMs - this.now());
    this.timer = setTimeout(() => this.checkIdle(), wait);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private changed(): void {
    this.emit('change', this.view());
  }

  private async check(
    badge: string,
    pin: string,
    roster: Roster | undefined,
    event: 'sign_on' | 'unlock' = 'sign_on',
  ): Promise<{ ok: true; officer: RosterOfficer } | { ok: false; result: SessionResult }> {
    const run = this.checking.then(async () => {
      const now = this.now();
      if (this.retryAt > now) {
        this.audit('warn', `${event}_refused`, { badge, reason: 'throttled' });
        return { ok: false as const, result: throttled(this.retryAt) };
      }
      const officer = findOfficer(roster, badge);
      // An unknown badge costs the same scrypt as a wrong PIN, so timing does not reveal badges.
      this.dummyHash ??= hashPin('not-a-pin-' + Math.random());
      const good = officer ? await verifyPin(pin, officer.pinHash) : (await verifyPin(pin, await this.dummyHash), false);
      if (officer && good) {
        this.failures = [];
        this.lockouts = 0;
        return { ok: true as const, officer };
      }
      const at = this.now();
      this.failures = this.failures.filter((t) => at - t < this.limits.windowMs);
      this.failures.push(at);
      const over = this.failures.length >= this.limits.maxFailures;
      if (over) {
        const pause = Math.min(this.limits.maxLockoutMs, this.limits.lockoutMs * 2 ** this.lockouts);
        this.lockouts += 1;
        this.retryAt = at + pause;
      }
      this.audit('warn', `${event}_refused`, { badge, reason: officer ? 'wrong PIN' : 'badge not on roster', failures: this.failures.length, ...(over ? { pausedMs: this.retryAt - at } : {}) });
      if (over) {
        this.changed();
        return { ok: false as const, result: throttled(this.retryAt) };
      }
      return { ok: false as const, result: { ok: false as const, code: 'refused' as const, message: 'Badge or PIN not recognised.' } };
    });
    this.checking = run.catch(() => undefined);
    return run;
  }

  private audit(level: 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    this.deps.log[level]({ audit: true, event, ...fields }, `audit: ${event.replace(/_/g, ' ')}`);
  }
}

function throttled(retryAt: number): SessionResult {
  return { ok: false, code: 'throttled', message: 'Too many failed attempts: wait before trying again.', retryAt };
}
