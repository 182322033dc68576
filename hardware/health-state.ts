// A device's health as an adapter tracks it. Conditions carry a key so that polling the same
// condition again neither re-logs nor re-emits, and `since` stays the moment it began (what a
// technician needs: "no fix for 20 min", not "no fix since the last poll").
import type { HardwareLogger } from './logger.js';
import type { Clock, DeviceHealth } from './types.js';

export class HealthState {
  private key = '';
  private value: DeviceHealth;

  constructor(
    private readonly log: HardwareLogger,
    /** What the log line calls the device, e.g. 'modem'. */
    private readonly device: string,
    clock: Clock,
    /** Tells listeners (the adapter emits 'health' through emitSafely). */
    private readonly onChange: (health: DeviceHealth) => void,
  ) {
    this.value = { state: 'missing', reason: 'not started', since: clock.now() };
  }

  get current(): DeviceHealth {
    return this.value;
  }

  /** Records a condition; logs and emits only when its key differs from the last one. */
  set(key: string, health: DeviceHealth): void {
    if (key === this.key) {
      this.value = { ...health, since: this.value.since };
      return;
    }
    this.key = key;
    this.value = health;
    this.log.info({ state: health.state, reason: health.state === 'ok' ? health.detail : health.reason }, `${this.device} health changed`);
    this.onChange(health);
  }
}

/** EACCES on a serial device almost always means the service user lacks the `dialout` group. */
export function serialPermissionHint(code: string): string {
  return code === 'EACCES' ? ' (is the service user in the dialout group?)' : '';
}
