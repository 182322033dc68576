// Two precincts that link to each other (sync/precinct-link.ts) and cars across two sectors, all
// through the real composition roots on ephemeral loopback ports.
//   precinct N serves sector B; precinct E serves sector C.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, precinctConfigSchema } from '../../../daemon/config.js';
import { startPrecinct, type RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { VehicleRegistry } from '../../../sync/credentials.js';
import { newSecret } from '../../../sync/secret-hash.js';
import { freePort } from '../../helpers/free-port.js';
import { testLogger, type Fleet } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait-for.js';

export interface PrecinctSpec {
  id: string;
  sector: string;
  port: number;
  links: Array<{ precinct: string; url: string; password: string }>;
}

export async function startSpec(fleet: Fleet, spec: PrecinctSpec): Promise<RunningPrecinct> {
  const config = parseConfig(
    precinctConfigSchema,
    {
      precinct: { id: spec.id, name: `Precinct ${spec.id}` },
      sectors: [spec.sector],
      mqtt: { host: '127.0.0.1', port: spec.port },
      api: { host: '127.0.0.1', port: 0 },
      stateDir: join(fleet.dir, `precinct-${spec.id}`),
      links: spec.links,
    },
    'test precinct',
  );
  const p = await startPrecinct({ config, department: fleet.department, log: testLogger().child({ precinct: spec.id }) });
  fleet.precincts.push(p);
  return p;
}

/**
 * Stops a precinct (as a crash would: its broker and station go away), keeps it down `downMs`,
 * and starts it again.
 */
export async function restartPrecinct(fleet: Fleet, p: RunningPrecinct, spec: PrecinctSpec, downMs = 0): Promise<RunningPrecinct> {
  await p.stop();
  fleet.precincts.splice(fleet.precincts.indexOf(p), 1);
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  return startSpec(fleet, spec);
}

export interface Mesh {
  N: RunningPrecinct;
  E: RunningPrecinct;
  specN: PrecinctSpec;
  specE: PrecinctSpec;
  secrets: Map<string, string>;
}

/** Provisions both precincts' registries (links both ways) before they start, then starts them. */
export async function startMesh(fleet: Fleet): Promise<Mesh> {
  const [portN, portE] = [await freePort(), await freePort()];
  const linkNE = newSecret(); // N's station at E's broker
  const linkEN = newSecret(); // E's station at N's broker
  await mkdir(join(fleet.dir, 'precinct-N'), { recursive: true });
  await mkdir(join(fleet.dir, 'precinct-E'), { recursive: true });
  const regN = await VehicleRegistry.open(join(fleet.dir, 'precinct-N', 'vehicles.json'));
  await regN.registerLink('E', ['B'], linkEN);
  const regE = await VehicleRegistry.open(join(fleet.dir, 'precinct-E', 'vehicles.json'));
  await regE.registerLink('N', ['C'], linkNE);
  const specN: PrecinctSpec = { id: 'N', sector: 'B', port: portN, links: [{ precinct: 'E', url: `mqtt://127.0.0.1:${portE}`, password: linkNE }] };
  const specE: PrecinctSpec = { id: 'E', sector: 'C', port: portE, links: [{ precinct: 'N', url: `mqtt://127.0.0.1:${portN}`, password: linkEN }] };
  const N = await startSpec(fleet, specN);
  const E = await startSpec(fleet, specE);
  await waitFor(() => N.links.every((l) => l.online()) && E.links.every((l) => l.online()), { what: 'precinct links online' });
  return { N, E, specN, specE, secrets: new Map() };
}

/**
 * A car provisioned at its home precinct and, when it may roam, at the others too (the same
 * secret: provisioning registers a car at every precinct of its broker list).
 */
export async function addCar(
  fleet: Fleet,
  mesh: Mesh,
  opts: { vehicleId: string; unit: string; beat: string; registerAt: RunningPrecinct[]; brokers: RunningPrecinct[] },
): Promise<RunningVehicle> {
  const b = fleet.department.beats[opts.beat]!;
  const secret = newSecret();
  mesh.secrets.set(opts.vehicleId, secret);
  for (const p of opts.registerAt) await p.registry.register(opts.vehicleId, { unitId: opts.unit, sector: b.sector, precinct: b.precinct }, secret);
  return fleet.addVehicle({ precinct: opts.registerAt[0]!, vehicleId: opts.vehicleId, unit: opts.unit, beat: opts.beat, brokers: opts.brokers.map((p) => p.brokerUrl), password: secret });
}
