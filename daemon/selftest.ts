// `mdt selftest`: what a technician runs after fitting or provisioning an MDT, with the service
// stopped (the modem's serial port cannot be opened twice). Checks the config, the secret, the
// state directory, the devices (hardware/selftest.ts: gpsd and a fix, the modem, the wired
// inputs) and every broker in the list with the car's own credentials, then prints one table.
// The home broker (the first) must accept the car; a neighbour refusing it is only a warning, as
// a car is registered where it roams only if the department chooses so.
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, statfs } from 'node:fs/promises';
import mqtt, { type IClientOptions } from 'mqtt';
import { loadVehicleConfig, readVehiclePassword, SAMPLE_DEPARTMENT, type VehicleConfig } from './config.js';
import { loadDepartment } from './department.js';
import { createLogger, type Logger } from './log.js';
import { createHardware } from '../hardware/factory.js';
import { runHardwareSelftest } from '../hardware/selftest.js';
import { topics } from '../sync/topics.js';
import { humanBytes } from './status.js';

export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface CheckRow {
  check: string;
  status: CheckStatus;
  detail: string;
}

export interface SelftestReport {
  ok: boolean;
  vehicle: string;
  rows: CheckRow[];
}

export interface BrokerProbe {
  ok: boolean;
  detail: string;
}

/**
 * Connects to one broker as the car (a distinct client id, so a running daemon's session is not
 * taken over, MQTT 3.1.1 §3.1.4-2), subscribes to the car's own sync inbox to prove the ACL knows
 * its sector, and disconnects. Publishes nothing.
 */
export async function probeBroker(
  broker: { url: string; caFile?: string },
  creds: { vehicleId: string; sector: string; password: string },
  timeoutMs: number,
): Promise<BrokerProbe> {
  const started = Date.now();
  const options: IClientOptions = {
    clientId: `${creds.vehicleId}-selftest-${randomBytes(3).toString('hex')}`,
    username: creds.vehicleId,
    password: creds.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...(broker.caFile ? { ca: await readFile(broker.caFile) } : {}),
  };
  const client = mqtt.connect(broker.url, options);
  try {
    await new Promise<void>((resolveConnect, reject) => {
      const timer = setTimeout(() => reject(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolveConnect();
      });
      client.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      client.once('close', () => {
        clearTimeout(timer);
        reject(new Error('connection closed before CONNACK'));
      });
    });
    const ms = Date.now() - started;
    const inbox = topics.syncInbox(creds.sector as never, creds.vehicleId as never);
    const granted = await client.subscribeAsync(inbox, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) {
      return { ok: false, detail: `connected as ${creds.vehicleId} in ${ms} ms, but the broker refused the sector ${creds.sector} subscription (registered in another sector?)` };
    }
    return { ok: true, detail: `connected as ${creds.vehicleId} in ${ms} ms; sector ${creds.sector} subscription granted` };
  } catch (err) {
    const e = err as Error & { code?: number | string };
    // CONNACK 4/5 (MQTT 3.1.1 §3.2.2.3): the precinct does not know this car, or revoked it.
    const hint = e.code === 4 || e.code === 5 ? ' (not registered at this precinct, revoked, or a wrong secret: re-run mdt provision or ask the precinct)' : '';
    return { ok: false, detail: `${e.message}${hint}` };
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}


async function stateDirCheck(cfg: VehicleConfig): Promise<CheckRow> {
  try {
    await mkdir(cfg.stateDir, { recursive: true });
    await access(cfg.stateDir, constants.W_OK);
    const fs = await statfs(cfg.stateDir);
    const free = fs.bavail * fs.bsize;
    // Boards are small (docs/sector-board.md); under 100 MB free means logs or something else filled the disk.
    const low = free < 100 * 1024 * 1024;
    return { check: 'state dir', status: low ? 'fail' : 'pass', detail: `${cfg.stateDir} writable, ${humanBytes(free)} free${low ? ' (under 100 MB)' : ''}` };
  } catch (err) {
    return { check: 'state dir', status: 'fail', detail: `${cfg.stateDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}

export async function runSelftest(configFile: string, opts: { timeoutMs: number; log?: Logger }): Promise<SelftestReport> {
  const log = opts.log ?? createLogger({ level: 'silent' });
  const cfg = await loadVehicleConfig(configFile);
  const v = cfg.vehicle;
  const rows: CheckRow[] = [
    { check: 'config', status: 'pass', detail: `${configFile}: vehicle ${v.id}, unit ${v.unit}, beat ${v.homeBeat}, sector ${v.sector}, precinct ${v.precinct}` },
  ];

  let password: string | undefined;
  try {
    password = await readVehiclePassword(cfg, configFile);
    rows.push({ check: 'credentials', status: 'pass', detail: cfg.credentials.passwordFile ? `broker secret readable from ${cfg.credentials.passwordFile}` : 'broker secret in the config (prefer passwordFile)' });
  } catch (err) {
    rows.push({ check: 'credentials', status: 'fail', detail: (err as Error).message });
  }
  rows.push(await stateDirCheck(cfg));

  const department = await loadDepartment(cfg.departmentFile ?? SAMPLE_DEPARTMENT);
  const beat = department.beats[v.homeBeat];
  if (!beat || beat.sector !== v.sector) {
    rows.push({ check: 'home beat', status: 'fail', detail: beat ? `beat ${beat.id} is in sector ${beat.sector}, not ${v.sector}` : `beat ${v.homeBeat} is not in the department file` });
  } else {
    rows.push({ check: 'home beat', status: 'pass', detail: `beat ${beat.id} of sector ${beat.sector}, precinct ${beat.precinct}` });
    const hardware = createHardware(cfg.hardware, { log: log.child({ component: 'hardware' }), beatPolygon: beat.rings[0] });
    try {
      for (const r of await runHardwareSelftest(hardware, { timeoutMs: opts.timeoutMs })) {
        rows.push({ check: r.check, status: r.ok ? 'pass' : 'fail', detail: r.detail });
      }
    } catch (err) {
      rows.push({ check: 'hardware', status: 'fail', detail: `self-test could not run: ${(err as Error).message}` });
    }
  }

  // All brokers at once; Promise.all keeps them in the configured order for the table.
  const brokerRows = await Promise.all(
    cfg.brokers.map(async (b, i): Promise<CheckRow> => {
      const check = `broker ${b.url}${i === 0 ? ' (home)' : b.precinct ? ` (${b.precinct})` : ''}`;
      if (password === undefined) return { check, status: i === 0 ? 'fail' : 'warn', detail: 'not tried: no broker secret' };
      const probe = await probeBroker(b, { vehicleId: v.id, sector: v.sector, password }, opts.timeoutMs);
      return { check, status: probe.ok ? 'pass' : i === 0 ? 'fail' : 'warn', detail: probe.detail };
    }),
  );
  rows.push(...brokerRows);
  return { ok: rows.every((r) => r.status !== 'fail'), vehicle: v.id, rows };
}
export function formatTable(rows: CheckRow[]): string {
  const w = Math.max(5, ...rows.map((r) => r.check.length));
  const lines = [`${'CHECK'.padEnd(w)}  RESULT  DETAIL`];
  for (const r of rows) lines.push(`${r.check.padEnd(w)}  ${r.status.toUpperCase().padEnd(6)}  ${r.detail}`);
  return lines.join('\n');
}

export function formatReport(report: SelftestReport): string {
  const failed = report.rows.filter((r) => r.status === 'fail').map((r) => r.check);
  const warned = report.rows.filter((r) => r.status === 'warn').length;
  const verdict = report.ok
    ? `selftest PASSED for vehicle ${report.vehicle}: ${report.rows.length} checks${warned ? `, ${warned} warning(s)` : ''}`
    : `selftest FAILED for vehicle ${report.vehicle}: ${failed.join(', ')}`;
  return `${formatTable(report.rows)}\n\n${verdict}`;
}
