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
      const { runVehicle } = await import('./run.js');
      await runVehicle(required(v, 'config'));
    },
  },
  precinct: {
    summary: 'run a precinct station (MQTT broker, sector boards, dispatch, CAD/CARE API)',
    usage: 'mdt precinct --config FILE\n\n  --config FILE   precinct config (see deploy/precinct.example.json)',
    options: { config: { type: 'string', short: 'c' }, ...HELP },
    async run(v) {
      const { runPrecinct } = await import('./run.js');
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
