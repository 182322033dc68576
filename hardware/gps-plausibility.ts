// Rejects GPS fixes a patrol car cannot have produced. gpsd passes on whatever the receiver
// says; a stationary LTE modem's GNSS (test/fixtures/nmea/quectel-eg25-g.log) makes gpsd report
// 93 m/s, and a fix that teleports across town would mislead dispatch's closest-unit choice.
import { distanceM } from './geo.js';
import type { GpsFix } from './types.js';

export interface PlausibilityLimits {
  /** Top ground speed in m/s. 70 m/s = 252 km/h, beyond any pursuit speed of a patrol car. */
  maxSpeedMps: number;
  /**
   * Largest acceptable horizontal error estimate (TPV `eph`) in metres. Beyond this a fix cannot
   * place the car on the right block. Kept loose because eph's "certainty is unknown" per
   * gpsd_json(5): cold-start fixes of a working receiver report ~160 m (geos-1m.log).
   */
  maxEphM: number;
  /** Slack added to the distance allowed between fixes, for receiver jitter (metres). */
  jumpToleranceM: number;
  /**
   * After this many jump or time-reversal rejections in a row the new fix is taken as the truth:
   * either the previous accepted fix was the bad one (a wrong date, see bt451.log), or the car
   * really was carried (ferry, tow truck, receiver off for a drive). Without this the filter
   * could reject forever.
   */
  jumpResetAfter: number;
}

export const defaultPlausibilityLimits: PlausibilityLimits = {
  maxSpeedMps: 70,
  maxEphM: 250,
  jumpToleranceM: 50,
  jumpResetAfter: 3,
};

export type PlausibilityVerdict = { ok: true; reason?: string } | { ok: false; reason: string };

/** Stateful: remembers the last accepted fix to judge jumps. Feed it only 2D/3D fixes. */
export class PlausibilityFilter {
  private readonly limits: PlausibilityLimits;
  private previous: GpsFix | undefined;
  private jumpsInARow = 0;

  constructor(limits: Partial<PlausibilityLimits> = {}) {
    this.limits = { ...defaultPlausibilityLimits, ...limits };
  }

  judge(fix: GpsFix): PlausibilityVerdict {
    const { maxSpeedMps, maxEphM, jumpToleranceM, jumpResetAfter } = this.limits;
    if (fix.speed !== undefined && fix.speed > maxSpeedMps) {
      return { ok: false, reason: `speed ${fix.speed.toFixed(1)} m/s exceeds ${maxSpeedMps} m/s` };
    }
    if (fix.eph !== undefined && fix.eph > maxEphM) {
      return { ok: false, reason: `horizontal error ${fix.eph.toFixed(0)} m exceeds ${maxEphM} m` };
    }
    const prev = this.previous;
    if (prev) {
      // GPS time, not arrival time: replayed or buffered fixes arrive faster than they happened.
      const dtS = (fix.fixTime - prev.fixTime) / 1000;
      const moved = distanceM([prev.lon, prev.lat], [fix.lon, fix.lat]);
      const allowed = maxSpeedMps * Math.max(0, dtS) + jumpToleranceM;
      // Time running backwards is a receiver date glitch (gpsd guessing the day or week wrong);
      // accepting it would corrupt the clock offset and the order of AVL positions.
      const conflict =
        dtS < 0
          ? `fix time ${(-dtS).toFixed(1)} s earlier than the previous fix`
          : moved > allowed
            ? `jump of ${moved.toFixed(0)} m in ${dtS.toFixed(1)} s`
            : undefined;
      if (conflict) {
        this.jumpsInARow++;
        if (this.jumpsInARow < jumpResetAfter) return { ok: false, reason: conflict };
        this.accept(fix);
        return { ok: true, reason: `reference reset after ${jumpResetAfter} conflicting fixes in a row (${conflict})` };
      }
    }
    this.accept(fix);
    return { ok: true };
  }

  /** Forget the reference position (e.g. after the receiver was unplugged). */
  reset(): void {
    this.previous = undefined;
    this.jumpsInARow = 0;
  }

  private accept(fix: GpsFix): void {
    this.previous = fix;
    this.jumpsInARow = 0;
  }
}
