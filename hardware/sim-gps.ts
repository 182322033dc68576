// Simulated GPS for `mdt demo` and tests: a car patrolling its beat. It picks random waypoints
// inside the beat polygon, drives to each at street speed, pauses briefly (a stop sign, a look
// around), and emits a 3D fix with speed and track every interval. Same seed, same route.
import { EventEmitter } from 'node:events';
import {
  type LonLat,
  bearingDeg,
  boundingBox,
  distanceM,
  moveTowards,
  pointInPolygon,
  polygonAreaDeg2,
} from './geo.js';
import { type HardwareLogger, silentLogger } from './logger.js';
import { emitSafely } from './safe-emit.js';
import { type Random, between, seededRandom } from './seeded-random.js';
import { type Clock, type DeviceHealth, type GpsFix, type GpsSource, type GpsSourceEvents, systemClock } from './types.js';

export interface SimGpsOptions {
  /** Beat boundary as [lon, lat] vertices (a GeoJSON outer ring works as is). */
  polygon: Array<[number, number]>;
  /** Cruising speed in m/s; each leg varies around it. Default 11 m/s (about 40 km/h). */
  speedMps?: number;
  /** Time between fixes in ms. Default 1000 (gpsd's usual 1 Hz TPV). */
  intervalMs?: number;
  clock?: Clock;
  seed?: number;
  /** Where a throwing `fix` listener is reported; the simulator itself never throws after construction. */
  log?: HardwareLogger;
}

/** Street driving varies: each leg runs at 60 %..120 % of the cruising speed. */
const LEG_SPEED_RANGE: readonly [number, number] = [0.6, 1.2];
/** Seconds parked at a waypoint before the next leg. */
const PAUSE_RANGE_S: readonly [number, number] = [0, 8];
/** Candidate waypoints tried before giving up on a leg whose straight line leaves a concave beat. */
const WAYPOINT_ATTEMPTS = 200;
/** Spacing of the samples that check a leg stays inside the polygon. */
const LEG_CHECK_STEP_M = 10;

export class SimGps extends EventEmitter<GpsSourceEvents> implements GpsSource {
  private readonly polygon: readonly LonLat[];
  private readonly cruiseMps: number;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: HardwareLogger;
  private position: LonLat;
  private waypoint: LonLat;
  private legSpeedMps: number;
  private pauseLeftS = 0;
  private lastTrack = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastFix: GpsFix | undefined;
  private currentHealth: DeviceHealth;

  constructor(options: SimGpsOptions) {
    super();
    if (options.polygon.length < 3 || polygonAreaDeg2(options.polygon) === 0) {
      throw new Error('SimGps needs a beat polygon with at least 3 vertices and a non-zero area');
    }
    const speed = options.speedMps ?? 11;
    if (!(speed > 0 && speed < 70)) throw new Error(`SimGps speedMps must be in (0, 70), got ${speed}`);
    const interval = options.intervalMs ?? 1000;
    if (!(interval > 0)) throw new Error(`SimGps intervalMs must be positive, got ${interval}`);
    this.polygon = options.polygon;
    this.cruiseMps = speed;
    this.intervalMs = interval;
    this.clock = options.clock ?? systemClock;
    this.random = seededRandom(options.seed ?? 1);
    this.log = options.log ?? silentLogger;
    this.position = this.randomPointInside();
    this.waypoint = this.nextWaypoint();
    this.legSpeedMps = this.pickLegSpeed();
    this.currentHealth = { state: 'ok', detail: 'simulated', since: this.clock.now() };
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.setHealth({ state: 'ok', detail: 'simulated', since: this.clock.now() });
    this.timer = setInterval(() => this.step(), this.intervalMs);
    // Emit one fix at once so the screen has a position before the first interval elapses.
    this.step();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  latest(): GpsFix | undefined {
    return this.lastFix;
  }

  health(): DeviceHealth {
    return this.currentHealth;
  }

  /** The simulator's time is the system clock, so the offset is zero once a fix exists. */
  clockOffsetMs(): number | undefined {
    return this.lastFix ? 0 : undefined;
  }

  /** Advances the car by one interval and emits the fix. Public so tests can drive it without timers. */
  step(): GpsFix {
    const dtS = this.intervalMs / 1000;
    let speed = 0;
    if (this.pauseLeftS > 0) {
      this.pauseLeftS = Math.max(0, this.pauseLeftS - dtS);
    } else {
      const before = this.position;
      this.position = moveTowards(before, this.waypoint, this.legSpeedMps * dtS);
      const moved = distanceM(before, this.position);
      speed = moved / dtS;
      if (moved > 0) this.lastTrack = bearingDeg(before, this.position);
      if (distanceM(this.position, this.waypoint) < 0.01) {
        this.position = this.waypoint;
        this.pauseLeftS = between(this.random, PAUSE_RANGE_S[0], PAUSE_RANGE_S[1]);
        this.waypoint = this.nextWaypoint();
        this.legSpeedMps = this.pickLegSpeed();
      }
    }
    const now = this.clock.now();
    const fix: GpsFix = {
      lon: this.position[0],
      lat: this.position[1],
      mode: '3d',
      speed: round(speed, 2),
      track: round(this.lastTrack, 1),
      altMsl: round(between(this.random, 45, 55), 1),
      eph: round(between(this.random, 3, 8), 1),
      satellitesUsed: 7 + Math.floor(this.random() * 5),
      fixTime: now,
      receivedAt: now,
    };
    this.lastFix = fix;
    emitSafely(this, this.log, 'fix', fix);
    return fix;
  }

  private pickLegSpeed(): number {
    return Math.min(69, this.cruiseMps * between(this.random, LEG_SPEED_RANGE[0], LEG_SPEED_RANGE[1]));
  }

  private randomPointInside(): LonLat {
    const box = boundingBox(this.polygon);
    // Rejection sampling: a beat fills a fair share of its bounding box, so this ends quickly;
    // the cap only guards against a sliver polygon.
    for (let i = 0; i < 10_000; i++) {
      const p: LonLat = [between(this.random, box.minLon, box.maxLon), between(this.random, box.minLat, box.maxLat)];
      if (pointInPolygon(p, this.polygon)) return p;
    }
    throw new Error('SimGps could not find a point inside the beat polygon (is it a sliver?)');
  }

  /**
   * A waypoint whose straight leg from here stays inside the beat, so a concave beat does not
   * send the car across a neighbour's. If none is found, the car stays put for this leg.
   */
  private nextWaypoint(): LonLat {
    for (let i = 0; i < WAYPOINT_ATTEMPTS; i++) {
      const candidate = this.randomPointInside();
      if (this.legStaysInside(this.position, candidate)) return candidate;
    }
    return this.position;
  }

  private legStaysInside(from: LonLat, to: LonLat): boolean {
    const steps = Math.ceil(distanceM(from, to) / LEG_CHECK_STEP_M);
    for (let s = 1; s < steps; s++) {
      const f = s / steps;
      const p: LonLat = [from[0] + (to[0] - from[0]) * f, from[1] + (to[1] - from[1]) * f];
      if (!pointInPolygon(p, this.polygon)) return false;
    }
    return true;
  }

  private setHealth(health: DeviceHealth): void {
    this.currentHealth = health;
    emitSafely(this, this.log, 'health', health);
  }
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
