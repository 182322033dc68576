// The hardware half of `mdt selftest`: what a fleet technician needs to know at the car. Starts
// the adapters, waits (up to a deadline) for each device to prove itself, and returns one row per
// check; `mdt selftest` adds the broker check and prints the table. Never throws: a device that
// is absent or broken is a failed row with the reason and what to look at.
import { GpsdSource } from './gpsd-client.js';
import { NoInputs, NoModem } from './not-fitted.js';
import type { DeviceHealth, GpsSource, InputName, ModemSource, ModemStatus, VehicleInputs } from './types.js';

export interface SelftestRow {
  check: string;
  ok: boolean;
  detail: string;
}

export interface HardwareUnderTest {
  gps: GpsSource;
  modem: ModemSource;
  inputs: VehicleInputs;
}

export interface SelftestOptions {
  /** How long to wait for a device to show what is checked (a cold GPS may need minutes). */
  timeoutMs: number;
  /**
   * Largest acceptable |GPS time - system time|. A skewed MDT clock puts wrong times on status
   * changes and calls; 2 s is far beyond NTP's error and well inside what dispatch notices.
   */
  maxClockOffsetMs?: number;
  /** Stop the adapters afterwards (default true: the CLI must exit when done). */
  stopAfter?: boolean;
}

const POLL_MS = 50;
/** How long to wait for the remaining input levels once the module has answered. */
const INPUTS_GRACE_MS = 500;

export async function runHardwareSelftest(hw: HardwareUnderTest, options: SelftestOptions): Promise<SelftestRow[]> {
  const deadline = Date.now() + options.timeoutMs;
  const maxOffset = options.maxClockOffsetMs ?? 2000;
  await Promise.all([safeStart(hw.gps), safeStart(hw.modem), safeStart(hw.inputs)]);
  try {
    const [gps, modem, inputs] = await Promise.all([
      checkGps(hw.gps, deadline, maxOffset),
      checkModem(hw.modem, deadline),
      checkInputs(hw.inputs, deadline),
    ]);
    return [...gps, ...modem, ...inputs];
  } finally {
    if (options.stopAfter ?? true) await Promise.all([safeStop(hw.gps), safeStop(hw.modem), safeStop(hw.inputs)]);
  }
}

async function checkGps(gps: GpsSource, deadline: number, maxOffsetMs: number): Promise<SelftestRow[]> {
  const rows: SelftestRow[] = [];
  if (gps instanceof GpsdSource) {
    const where = `${gps.host}:${gps.port}`;
    const up = await until(deadline, () => gps.isConnected());
    rows.push(
      up
        ? { check: 'gps: gpsd reachable', ok: true, detail: `gpsd at ${where}` }
        : { check: 'gps: gpsd reachable', ok: false, detail: `${reasonOf(gps.health())} (is gpsd running and listening on ${where}?)` },
    );
    if (!up) {
      rows.push({ check: 'gps: fix', ok: false, detail: 'no gpsd' }, { check: 'gps: time', ok: false, detail: 'no gpsd' });
      return rows;
    }
  }
  // A fix that is current, with GPS time when the receiver gives one.
  const fixed = await until(deadline, () => {
    const fix = gps.latest();
    return fix !== undefined && fix.mode !== 'none' && gps.health().state === 'ok' && gps.clockOffsetMs() !== undefined;
  });
  const fix = gps.latest();
  if (!fixed || !fix) {
    const detail = `${reasonOf(gps.health())} (antenna connected and sky in view?)`;
    rows.push({ check: 'gps: fix', ok: false, detail }, { check: 'gps: time', ok: false, detail: 'no fix with GPS time' });
    return rows;
  }
  const quality = [
    `${fix.mode} fix`,
    fix.satellitesUsed !== undefined ? `${fix.satellitesUsed} satellites` : undefined,
    fix.eph !== undefined ? `±${Math.round(fix.eph)} m` : undefined,
    `${fix.lat.toFixed(5)},${fix.lon.toFixed(5)}`,
  ].filter(Boolean);
  rows.push({ check: 'gps: fix', ok: true, detail: quality.join(', ') });
  const offset = gps.clockOffsetMs()!;
  const sane = Math.abs(offset) <= maxOffsetMs;
  rows.push({
    check: 'gps: time',
    ok: sane,
    detail: sane
      ? `system clock within ${formatDuration(Math.abs(offset))} of GPS time`
      : `system clock ${formatDuration(Math.abs(offset))} ${offset > 0 ? 'behind' : 'ahead of'} GPS time (check NTP/chrony and the RTC)`,
  });
  return rows;
}

async function checkModem(modem: ModemSource, deadline: number): Promise<SelftestRow[]> {
  if (modem instanceof NoModem) return [{ check: 'modem', ok: true, detail: 'not fitted (hardware.modem.kind is "none")' }];
  const polled = await until(deadline, () => isFresh(modem.latest(), modem.health()));
  const status = modem.latest();
  if (!polled || !status) {
    const detail = `${reasonOf(modem.health())} (modem powered, cable and port path right?)`;
    return [
      { check: 'modem: signal', ok: false, detail },
      { check: 'modem: registration', ok: false, detail },
    ];
  }
  const signal: SelftestRow =
    status.rssiDbm !== undefined && status.bars > 0
      ? { check: 'modem: signal', ok: true, detail: `${status.rssiDbm} dBm (${status.bars} bars)` }
      : {
          check: 'modem: signal',
          ok: false,
          detail: status.rssiDbm === undefined ? 'signal not detectable (antenna connected?)' : `${status.rssiDbm} dBm, too weak to use`,
        };
  const registered = status.registration === 'home' || status.registration === 'roaming';
  const registration: SelftestRow = registered
    ? {
        check: 'modem: registration',
        ok: true,
        detail: [status.registration, status.operator && `on ${status.operator}`, status.tech && `(${status.tech})`].filter(Boolean).join(' '),
      }
    : { check: 'modem: registration', ok: false, detail: reasonOf(modem.health()) };
  return [signal, registration];
}

async function checkInputs(inputs: VehicleInputs, deadline: number): Promise<SelftestRow[]> {
  if (inputs instanceof NoInputs) return [{ check: 'inputs', ok: true, detail: 'not fitted (hardware.inputs.kind is "none")' }];
  const names: InputName[] = ['ignition', 'lights', 'emergency'];
  const ok = await until(deadline, () => inputs.health().state === 'ok' && Object.keys(inputs.state()).length > 0);
  if (!ok) {
    return [{ check: 'inputs: responding', ok: false, detail: `${reasonOf(inputs.health())} (interface module powered and cabled?)` }];
  }
  // The module answers a query one line per input; give the rest a moment (a module may also
  // lack an input, which then shows as "unknown").
  await until(Math.min(deadline, Date.now() + INPUTS_GRACE_MS), () => names.every((n) => inputs.state()[n] !== undefined));
  const state = inputs.state();
  const levels = names.map((n) => `${n} ${state[n] === undefined ? 'unknown' : state[n] ? 'on' : 'off'}`).join(', ');
  const health = inputs.health();
  const who = health.state === 'ok' && health.detail ? `${health.detail}: ` : '';
  return [{ check: 'inputs: responding', ok: true, detail: `${who}${levels}` }];
}

function isFresh(status: ModemStatus | undefined, health: DeviceHealth): boolean {
  // A status after the latest health change: the modem answered since it last changed state.
  return status !== undefined && health.state !== 'missing' && status.at >= health.since;
}

function reasonOf(health: DeviceHealth): string {
  return health.state === 'ok' ? (health.detail ?? 'ok') : health.reason;
}

async function until(deadline: number, probe: () => boolean): Promise<boolean> {
  while (true) {
    try {
      if (probe()) return true;
    } catch {
      // A probe reading adapter state must not end the self-test; treat as "not yet".
    }
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function safeStart(device: { start(): Promise<void> }): Promise<void> {
  try {
    await device.start();
  } catch {
    // Adapters report start problems as health, which the checks read.
  }
}

async function safeStop(device: { stop(): Promise<void> }): Promise<void> {
  try {
    await device.stop();
  } catch {
    // Nothing useful to do with a failure to stop during a self-test.
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(0)} days`;
}
