#!/usr/bin/env node
// `mdt`: picks a subcommand, parses its flags strictly, loads config, calls a composer. Nothing
// else lives here. Errors a person can fix print one line and exit 2; a sector board newer than
// this daemon exits 3 (systemd's RestartPreventExitStatus keeps both from restart loops); crashes
// exit 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, UsageError } from './errors.js';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Takes positional arguments (e.g. `precinct-admin revoke V1001`); others refuse them. */
  positionals?: boolean;
  /** Resolves with the exit code for commands that report pass/fail (selftest, status). */
  run(values: Record<string, unknown>, positionals: string[]): Promise<void | number>;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

const commands: Record<string, Command> = {
  vehicle: {
    summary: 'run the in-car daemon (GPS, modem, inputs, board sync, the officer\'s screen)',
    usage: 'mdt vehicle --config FILE\n\n  --config FILE   vehicle config (see deploy/vehicle.example.json)',
    options: { config: { type: 'string', short: 'c' }, ...HELP },
    async run(v) {
      // Baseline (Liftoff) wasm code only, set before Automerge's wasm is compiled: the optimising
      // recompile made the board's first load cost 650 ms CPU instead of 180 ms at boot, and
      // steady-state board operations measured the same (docs/performance.md).
      (await import('node:v8')).setFlagsFromString('--liftoff-only');
      const { runVehicle } = await import('./run-vehicle.js');
      await runVehicle(required(v, 'config'));
    },
  },
  precinct: {
    summary: 'run a precinct station (MQTT broker, sector boards, dispatch, CAD/CARE API)',
    usage: 'mdt precinct --config FILE\n\n  --config FILE   precinct config (see deploy/precinct.example.json)',
    options: { config: { type: 'string', short: 'c' }, ...HELP },
    async run(v) {
      const { runPrecinct } = await import('./run-precinct.js');
      await runPrecinct(required(v, 'config'));
    },
  },
  demo: {
    summary: 'one precinct and three simulated cars on this machine; prints the screens\' URLs',
    usage:
      'mdt demo [--state DIR] [--port N] [--no-calls]\n\n' +
      '  --state DIR   keep boards in DIR (default: a fresh temporary directory)\n' +
      '  --port N      first HTTP port: precinct on N, cars on N+1..N+3 (default 8090; busy ports fall back to free ones)\n' +
      '  --no-calls    do not replay real calls for service into the demo sector',
    options: { state: { type: 'string' }, port: { type: 'string' }, 'no-calls': { type: 'boolean' }, ...HELP },
    async run(v) {
      const { runDemo } = await import('./demo.js');
      const port = v.port === undefined ? 8090 : Number(v.port);
      if (!Number.isInteger(port) || port < 0 || port > 65530) throw new UsageError(`--port: expected a port number, got ${String(v.port)}`);
      await runDemo({ stateDir: v.state as string | undefined, basePort: port, replayCalls: v['no-calls'] !== true });
    },
  },
  provision: {
    summary: 'make this MDT a car of the fleet: identity, brokers, secret registered with the precinct',
    usage:
      'mdt provision --vehicle ID --unit ID --beat BEAT --broker URL [--broker URL ...] (--precinct-api URL --token-file FILE | --precinct-config FILE) [options]\n\n' +
      '  --config FILE            config to write (default /etc/mdt/vehicle.json); the secret goes beside it as broker-password\n' +
      '  --vehicle ID             fleet asset number (also the MQTT username)\n' +
      '  --unit ID                unit id; --call-sign TEXT for the screen\n' +
      '  --beat BEAT              home beat; sector and precinct follow from the department file\n' +
      '  --sector ID, --precinct ID   optional, checked against the beat\n' +
      '  --broker [PRECINCT=]URL  ordered: home precinct first, then neighbours, then county (repeat)\n' +
      '  --ca FILE                CA certificate for the mqtts:// and wss:// brokers (a private CA)\n' +
      '  --precinct-api URL       register through the station\'s fleet API (repeat to register where the car roams)\n' +
      '  --token-file FILE        a fleet operator token (or $MDT_OPERATOR_TOKEN)\n' +
      '  --precinct-config FILE   on the station itself, while it is stopped: write its registry directly\n' +
      '  --department FILE        department GeoJSON (default: the sample department)\n' +
      '  --hardware FILE          JSON of the config\'s hardware section (default: gpsd on loopback)\n' +
      '  --state-dir DIR, --ui-port N, --owner USER (the service user that reads the config)\n' +
      '  --force                  replace another identity, or re-key this one (locks the old MDT out)',
    options: {
      config: { type: 'string', short: 'c' },
      vehicle: { type: 'string' },
      unit: { type: 'string' },
      'call-sign': { type: 'string' },
      beat: { type: 'string' },
      sector: { type: 'string' },
      precinct: { type: 'string' },
      mode: { type: 'string' },
      broker: { type: 'string', multiple: true },
      ca: { type: 'string' },
      'precinct-api': { type: 'string', multiple: true },
      'token-file': { type: 'string' },
      'precinct-config': { type: 'string' },
      department: { type: 'string' },
      hardware: { type: 'string' },
      'state-dir': { type: 'string' },
      'ui-port': { type: 'string' },
      owner: { type: 'string' },
      force: { type: 'boolean' },
      ...HELP,
    },
    async run(v) {
      const p = await import('./provision.js');
      const { loadPrecinctConfig, SAMPLE_DEPARTMENT } = await import('./config.js');
      const { loadDepartment } = await import('./department.js');
      const mode = v.mode as string | undefined;
      if (mode !== undefined && !['car', 'foot', 'bicycle'].includes(mode)) throw new UsageError(`--mode: expected car, foot or bicycle, got "${mode}"`);
      const uiPort = v['ui-port'] === undefined ? undefined : Number(v['ui-port']);
      if (uiPort !== undefined && (!Number.isInteger(uiPort) || uiPort < 0 || uiPort > 65535)) throw new UsageError(`--ui-port: expected a port number, got ${String(v['ui-port'])}`);
      const department = await loadDepartment((v.department as string | undefined) ?? SAMPLE_DEPARTMENT);
      const registrars: import('./provision.js').Registrar[] = [];
      const apis = (v['precinct-api'] as string[] | undefined) ?? [];
      if (apis.length > 0) {
        const token = await p.readToken(v['token-file'] as string | undefined);
        if (!token) throw new UsageError('--precinct-api needs --token-file FILE (a fleet operator token) or $MDT_OPERATOR_TOKEN');
        for (const url of apis) registrars.push(p.apiRegistrar(new p.FleetClient(url, token)));
      }
      if (v['precinct-config']) registrars.push(await p.fileRegistrar(await loadPrecinctConfig(v['precinct-config'] as string), department));
      await p.provision({
        configFile: (v.config as string | undefined) ?? '/etc/mdt/vehicle.json',
        vehicleId: required(v, 'vehicle'),
        unit: required(v, 'unit'),
        beat: required(v, 'beat'),
        ...(v['call-sign'] ? { callSign: v['call-sign'] as string } : {}),
        ...(v.sector ? { sector: v.sector as string } : {}),
        ...(v.precinct ? { precinct: v.precinct as string } : {}),
        ...(mode ? { mode: mode as 'car' | 'foot' | 'bicycle' } : {}),
        brokers: ((v.broker as string[] | undefined) ?? []).map(p.parseBrokerArg),
        ...(v.ca ? { caFile: v.ca as string } : {}),
        ...(v.department ? { departmentFile: v.department as string } : {}),
        ...(v.hardware ? { hardwareFile: v.hardware as string } : {}),
        ...(v['state-dir'] ? { stateDir: v['state-dir'] as string } : {}),
        ...(uiPort !== undefined ? { uiPort } : {}),
        ...(v.owner ? { owner: v.owner as string } : {}),
        registrars,
        force: v.force === true,
        department,
        print: (line) => console.log(line),
      });
    },
  },
  selftest: {
    summary: 'check this MDT: config, secret, GPS fix, modem, inputs, and each broker with the car\'s credentials',
    usage:
      'mdt selftest --config FILE [--json] [--timeout SECONDS]\n\n' +
      '  --config FILE     vehicle config (stop the service first: the modem\'s port cannot be shared)\n' +
      '  --json            print the checks as JSON\n' +
      '  --timeout N       seconds to wait for a GPS fix, the modem and each broker (default 20)\n\n' +
      'Exits 0 when every required check passes, 1 when one fails.',
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, timeout: { type: 'string' }, ...HELP },
    async run(v) {
      const { runSelftest, formatReport } = await import('./selftest.js');
      const timeout = v.timeout === undefined ? 20 : Number(v.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600) throw new UsageError(`--timeout: expected seconds between 1 and 600, got ${String(v.timeout)}`);
      const report = await runSelftest(required(v, 'config'), { timeoutMs: timeout * 1000 });
      console.log(v.json ? JSON.stringify(report, null, 2) : formatReport(report));
      return report.ok ? 0 : 1;
    },
  },
  status: {
    summary: 'what a running car is doing: versions, config (no secrets), devices, broker link, board sync, disk',
    usage:
      'mdt status --config FILE [--json]\n\n' +
      '  --config FILE   vehicle config (default /etc/mdt/vehicle.json)\n' +
      '  --json          print as JSON\n\n' +
      'Exits 0 when the daemon answers, 3 when it is not running.',
    options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, ...HELP },
    async run(v) {
      const { collectVehicleStatus, formatVehicleStatus } = await import('./status.js');
      const s = await collectVehicleStatus((v.config as string | undefined) ?? '/etc/mdt/vehicle.json');
      console.log(v.json ? JSON.stringify(s, null, 2) : formatVehicleStatus(s));
      return s.daemon.running ? 0 : 3;
    },
  },
  diag: {
    summary: 'one .tar.gz for support: status, redacted config, journal, system facts (no secrets, no boards)',
    usage:
      'mdt diag --config FILE [--out FILE] [--since TIME]\n\n' +
      '  --config FILE   vehicle or precinct config\n' +
      '  --out FILE      archive to write (default ./mdt-diag-<id>-<time>.tar.gz, mode 0600)\n' +
      '  --since TIME    journal from this time, as journalctl --since takes it (default -24h)',
    options: { config: { type: 'string', short: 'c' }, out: { type: 'string', short: 'o' }, since: { type: 'string' }, ...HELP },
    async run(v) {
      const { collectDiag } = await import('./diag.js');
      const r = await collectDiag({ configFile: required(v, 'config'), ...(v.out ? { out: v.out as string } : {}), ...(v.since ? { since: v.since as string } : {}) });
      console.log(`wrote ${r.archive}\n${r.files.map((f) => `  ${f}`).join('\n')}`);
    },
  },
  'precinct-admin': {
    summary: 'station staff: list and revoke cars, add operators (fleet, dispatcher, watch_commander, care)',
    usage:
      'mdt precinct-admin list|revoke VEHICLE|add-operator ID --role ROLE [options]\n\n' +
      '  list                     the cars registered at this precinct, revoked or not, and their presence\n' +
      '  revoke VEHICLE           the broker refuses the car from its next connect on (a stolen or replaced MDT)\n' +
      '  add-operator ID --role R a new token for R in fleet, dispatcher, watch_commander, care; printed once\n\n' +
      '  --config FILE            precinct config (default /etc/mdt/precinct.json)\n' +
      '  --api URL                the station\'s API, when not on the station\n' +
      '  --token-file FILE        operator token for a running station (or $MDT_OPERATOR_TOKEN)\n' +
      '  --json                   list as JSON\n\n' +
      'With the station running, list and revoke go through its API (a fleet or watch_commander token);\n' +
      'with it stopped, they work on its registry file. add-operator writes the operators file: restart a\n' +
      'running station to load it.',
    positionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      api: { type: 'string' },
      'token-file': { type: 'string' },
      role: { type: 'string' },
      json: { type: 'boolean' },
      ...HELP,
    },
    async run(v, args) {
      const p = await import('./provision.js');
      const [action, target, ...extra] = args;
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const config = (v.config as string | undefined) ?? (v.api ? undefined : '/etc/mdt/precinct.json');
      const t = await p.adminTarget({ ...(config ? { config } : {}), ...(v.api ? { api: v.api as string } : {}), ...(v['token-file'] ? { tokenFile: v['token-file'] as string } : {}) });
      if (action === 'list') {
        if (target) throw new UsageError(`unexpected argument "${target}"`);
        const list = await p.listVehicles(t);
        if (v.json) console.log(JSON.stringify(list, null, 2));
        else if (list.length === 0) console.log('no vehicles registered');
        else {
          for (const x of list) {
            console.log(`${x.vehicleId.padEnd(12)} unit ${x.unitId.padEnd(8)} sector ${x.sector.padEnd(4)} ${x.revokedAt ? `REVOKED ${x.revokedAt}` : `registered ${x.registeredAt}`}${x.presence ? `  ${x.presence}` : ''}`);
          }
        }
      } else if (action === 'revoke') {
        if (!target) throw new UsageError('revoke needs a VEHICLE id');
        const r = await p.revokeVehicle(t, target);
        console.log(`vehicle ${target} (unit ${r.summary.unitId}) ${r.alreadyRevoked ? 'was already revoked' : 'revoked'} at ${r.summary.revokedAt}: ${r.effect}`);
      } else if (action === 'add-operator') {
        if (!target) throw new UsageError('add-operator needs an operator ID');
        if (!t.precinct) throw new UsageError('add-operator works on the station: give --config FILE (the precinct config)');
        const r = await p.addOperator(t.precinct, target, p.parseRole(v.role));
        console.error(`operator ${target} (${String(v.role)}) written to ${r.file}; the token below is shown once, keep it in a password manager${r.restartNeeded ? '\nthe station is running: restart it to load the operator (systemctl restart mdt-precinct)' : ''}`);
        console.log(r.token);
      } else {
        throw new UsageError(action ? `unknown action "${action}" (list, revoke, add-operator)` : 'an action is required: list, revoke VEHICLE or add-operator ID --role ROLE');
      }
    },
  },
};

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'mdt: offline-first mobile data terminal for police patrol cars',
    '',
    'Usage: mdt <command> [options]    (mdt <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`mdt: unknown command "${name}"\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: true });
    if (values.help) {
      console.log(`${command.summary}\n\nUsage: ${command.usage}`);
      return 0;
    }
    if (positionals.length > 0 && !command.positionals) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return (await command.run(values, positionals)) ?? 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(`mdt ${name}: ${err.message}`);
      return 2;
    }
    const code = (err as { code?: string }).code;
    if (code === 'schema_too_new') {
      // Upgrading the package is the fix; restarting this binary would fail the same way.
      console.error(`mdt ${name}: ${(err as Error).message} (see docs/precinct-guide.md, "Upgrades and downgrades")`);
      return 3;
    }
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`mdt ${name}: ${(err as Error).message} (see mdt ${name} --help)`);
      return 2;
    }
    console.error(`mdt ${name}: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
