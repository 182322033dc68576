// Phase timing for the county bench: when each phase ended, how late the bench's own event loop
// ran meanwhile (the N cars share it), and how many received sync messages the cars still had
// queued (arrived on the wire, not yet handled by PeerSync). With COUNTY_TRACE=<ms> the same line
// is also printed every <ms> while the bench waits; with COUNTY_SELF_PROF=<dir> the bench process
// records a CPU profile of the phases after the measured window (catch-up and the fleet's stop),
// written to <dir> as a .cpuprofile (Chrome DevTools / speedscope); COUNTY_SELF_PROF_SIGNON=1 adds
// a profile from the fleet's sign-on to the hello given to cars still apart.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { cpuShare, procSample, type ProcSample } from './county-procs.js';

/** What the trace needs of a lightweight car. */
export interface TracedCar {
  syncIn: number;
  syncDone: number;
  wireIn: number;
  syncDropped: number;
  acks: { n: number; sumMs: number; maxMs: number };
}

export interface Backlog {
  /** Sync messages received but not handled yet, over the fleet. */
  queued: number;
  /** The largest queue of one car. */
  maxQueued: number;
  /** Cars with anything queued. */
  carsQueued: number;
  /** Messages of any kind delivered by the cars' transports so far. */
  wireIn: number;
  /** Queued messages dropped by cars that stopped, so far. */
  dropped: number;
  /** Sync publishes acknowledged by the broker so far, and the sum of their ack times (ms). */
  acked: number;
  ackSumMs: number;
}

export function backlog(cars: readonly TracedCar[]): Backlog {
  let queued = 0;
  let maxQueued = 0;
  let carsQueued = 0;
  let wireIn = 0;
  let dropped = 0;
  let acked = 0;
  let ackSumMs = 0;
  for (const c of cars) {
    dropped += c.syncDropped;
    acked += c.acks.n;
    ackSumMs += c.acks.sumMs;
    const q = c.syncIn - c.syncDone;
    queued += q;
    if (q > maxQueued) maxQueued = q;
    if (q > 0) carsQueued += 1;
    wireIn += c.wireIn;
  }
  return { queued, maxQueued, carsQueued, wireIn, dropped, acked, ackSumMs };
}

export class CountyTrace {
  private readonly t0 = performance.now();
  private last = performance.now();
  private cpu0 = process.cpuUsage();
  private acks0 = { acked: 0, ackSumMs: 0 };
  private readonly procs0 = new Map<string, ProcSample | undefined>();
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private ticker: NodeJS.Timeout | undefined;
  private session: Session | undefined;
  readonly phases: Array<{ phase: string; s: number }> = [];

  constructor(
    private readonly label: string,
    private readonly cars: () => readonly TracedCar[],
    /** Other processes whose CPU share goes on each line (e.g. the station). */
    private readonly procs: Record<string, () => number | undefined> = {},
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {
    this.sampleProcs();
    this.lag.enable();
    const every = Number(process.env.COUNTY_TRACE ?? 0);
    if (every > 0) this.ticker = setInterval(() => this.line('…'), every);
  }

  /** One line: time since the start and since the last phase, loop lag, bench CPU, the cars' queues. */
  private line(what: string, extra?: Record<string, unknown>): number {
    const t = performance.now();
    const dt = (t - this.last) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const { acked, ackSumMs, ...b } = backlog(this.cars());
    const cpus: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.procs)) {
      const p = pid();
      cpus[`${name}Cpu`] = Math.round(cpuShare(this.procs0.get(name), p === undefined ? undefined : procSample(p)) * 100) / 100;
    }
    const n = acked - this.acks0.acked;
    const fields = {
      dtS: Math.round(dt * 10) / 10,
      lagP99Ms: Math.round(this.lag.percentile(99) / 1e6),
      lagMaxMs: Math.round(this.lag.max / 1e6),
      benchCpu: dt > 0 ? Math.round(((cpu.user + cpu.system) / 1e6 / dt) * 100) / 100 : 0,
      ...cpus,
      ...b,
      acks: n,
      ackMeanMs: n > 0 ? Math.round((ackSumMs - this.acks0.ackSumMs) / n) : null,
      ...extra,
    };
    this.write(`county: ${this.label} +${((t - this.t0) / 1000).toFixed(1)}s ${what} ${JSON.stringify(fields)}`);
    return dt;
  }

  /** Marks the end of a phase: prints its line and starts the next phase's figures afresh. */
  phase(name: string, extra?: Record<string, unknown>): void {
    const dt = this.line(name, extra);
    this.phases.push({ phase: name, s: dt });
    this.last = performance.now();
    this.cpu0 = process.cpuUsage();
    const { acked, ackSumMs } = backlog(this.cars());
    this.acks0 = { acked, ackSumMs };
    this.sampleProcs();
    this.lag.reset();
  }

  private sampleProcs(): void {
    for (const [name, pid] of Object.entries(this.procs)) {
      const p = pid();
      this.procs0.set(name, p === undefined ? undefined : procSample(p));
    }
  }

  /** Starts profiling this process if COUNTY_SELF_PROF names a directory. */
  async startProfile(): Promise<void> {
    if (!process.env.COUNTY_SELF_PROF || this.session) return;
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await this.session.post('Profiler.start');
  }

  /** Writes the profile started by startProfile (if any) and returns its file. */
  async stopProfile(name: string): Promise<string | undefined> {
    const dir = process.env.COUNTY_SELF_PROF;
    const session = this.session;
    if (!dir || !session) return undefined;
    this.session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const file = join(dir, `county-bench-${name}-${Date.now()}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    this.write(`county: ${this.label} CPU profile of the bench process: ${file}`);
    return file;
  }

  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.lag.disable();
  }
}
