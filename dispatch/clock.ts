// The dispatch policy never reads the wall clock itself: every decision takes `now` from a Clock,
// so a 30-minute hold is tested (and replayed) in simulated time without waiting.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test or the replay moves by hand. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t < this.t) throw new Error(`ManualClock cannot go backwards (${t} < ${this.t})`);
    this.t = t;
  }
  advance(ms: number): number {
    this.set(this.t + ms);
    return this.t;
  }
}

/** mm:ss (or h:mm:ss) as the department writes hold times in a call's history: "30:00". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}
