// The same convergence, unchanged vehicle daemons, with the Debian Mosquitto as the precinct
// broker: password_file hashed by mosquitto_passwd, acl_file generated from the registry
// (sync/mosquitto-acl.ts), the precinct station connecting as a client (mqtt.external).
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as A from '@automerge/automerge';
import * as board from '../../../sync/board.js';
import type { OpContext, UnitId, VehicleId } from '../../../sync/schema.js';
import { parseConfig, precinctConfigSchema } from '../../../daemon/config.js';
import { startPrecinct, type RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { newSecret } from '../../../sync/secret-hash.js';
import { renderMosquittoAcl } from '../../../sync/mosquitto-acl.js';
import { topics } from '../../../sync/topics.js';
import { createFleet, postCall, testLogger, type Fleet } from '../../helpers/fleet.js';
import { startMosquitto, type RunningMosquitto } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait-for.js';

const CARS = [
  { vehicleId: 'V31', unit: 'NB1', beat: 'B1' },
  { vehicleId: 'V32', unit: 'NB2', beat: 'B2' },
  { vehicleId: 'V33', unit: 'NB3', beat: 'B3' },
];
const asCar = (v: RunningVehicle): OpContext => ({ by: { kind: 'vehicle', vehicleId: v.screen.identity.vehicleId as VehicleId, unitId: v.screen.identity.unitId as UnitId }, at: Date.now() });
const noteTexts = (r: RunningVehicle['replica'], id: string) => (r.view().calls[id]?.notes ?? []).map((n) => n.text).sort();

describe('convergence through Mosquitto', () => {
  let fleet: Fleet;
  let mosq: RunningMosquitto;
  let precinct: RunningPrecinct;
  let cars: RunningVehicle[];
  const secrets = new Map(CARS.map((c) => [c.vehicleId, newSecret()]));
  const stationSecret = newSecret();
  const observerSecret = newSecret();

  beforeAll(async () => {
    fleet = await createFleet();
    mosq = await startMosquitto({
      users: [
        { username: 'precinct-N', password: stationSecret },
        { username: 'county', password: observerSecret },
        ...CARS.map((c) => ({ username: c.vehicleId, password: secrets.get(c.vehicleId)! })),
      ],
      acl: renderMosquittoAcl({ precinct: 'N', sectors: ['B'], vehicles: CARS.map((c) => ({ vehicleId: c.vehicleId, unitId: c.unit, sector: 'B' })), bridges: ['county'] }),
    });
    const config = parseConfig(
      precinctConfigSchema,
      {
        precinct: { id: 'N', name: 'North' },
        sectors: ['B'],
        mqtt: { external: { url: mosq.url, password: stationSecret } },
        api: { host: '127.0.0.1', port: 0 },
        stateDir: join(fleet.dir, 'precinct-N'),
      },
      'mosquitto precinct',
    );
    precinct = await startPrecinct({ config, department: fleet.department, log: testLogger().child({ precinct: 'N' }) });
    fleet.precincts.push(precinct);
    // The registry still binds authors (and renders the ACL); Mosquitto checks the passwords.
    for (const c of CARS) await precinct.registry.register(c.vehicleId, { unitId: c.unit, sector: 'B', precinct: 'N' }, secrets.get(c.vehicleId)!);
    cars = [];
    for (const c of CARS) cars.push(await fleet.addVehicle({ precinct, ...c, password: secrets.get(c.vehicleId)! }));
    await waitFor(() => cars.every((v) => v.transport.isOnline()) && precinct.transport.isOnline(), { what: 'cars and station on Mosquitto' });
  });
  afterAll(async () => {
    await fleet?.close();
    await mosq?.stop();
  });

  it('delivers a call to every car and merges edits made across a partition', async () => {
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Burglary', priority: 2, address: '1 Market St', beat: 'B1' });
    await waitFor(() => cars.every((v) => v.replica.view().calls[id]), { what: 'call on all cars' });

    await cars[0]!.transport.close();
    await cars[0]!.replica.update((d) => board.addNote(d, { callId: id, text: 'offline car note' }, asCar(cars[0]!)));
    await cars[1]!.replica.update((d) => board.addNote(d, { callId: id, text: 'online car note' }, asCar(cars[1]!)));
    const sb = precinct.sectors.get('B')!;
    await sb.replica.update((d) => board.addNote(d, { callId: id, text: 'precinct note' }, { by: { kind: 'operator', operatorId: 'd1', role: 'dispatcher' }, at: Date.now() }));
    cars[0]!.transport.start();
    const replicas = [...cars.map((v) => v.replica), sb.replica];
    await waitFor(() => replicas.every((r) => noteTexts(r, id).length === 3), { what: 'three notes everywhere' });
    expect(new Set(replicas.map((r) => A.getHeads(r.doc).sort().join())).size).toBe(1);
  });

  it('refuses an unknown user, a wrong password, and a car publishing to another sector', async () => {
    const opts = { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 as const };
    await expect(mqtt.connectAsync(mosq.url, { ...opts, username: 'V404', password: 'nope-nope' })).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(mqtt.connectAsync(mosq.url, { ...opts, username: 'V31', password: 'wrong-password' })).rejects.toThrow(/Not authorized|Bad username/i);
    const observer = await mqtt.connectAsync(mosq.url, { ...opts, clientId: 'observer', username: 'county', password: observerSecret });
    const seen: string[] = [];
    const forged: string[] = [];
    observer.on('message', (t, p) => {
      seen.push(t);
      if (p.toString() === 'x') forged.push(t);
    });
    await observer.subscribeAsync('mdt/v1/#', { qos: 1 });
    const rogue = await mqtt.connectAsync(mosq.url, { ...opts, clientId: 'rogue', username: 'V31', password: secrets.get('V31')! });
    // Mosquitto drops a 3.1.1 publish the ACL denies (the PUBACK still comes: §3.3.5 leaves it to the server).
    await rogue.publishAsync(topics.presence('C', 'EC1'), 'x', { qos: 1 });
    await rogue.publishAsync(topics.presence('B', 'NB2'), 'x', { qos: 1 });
    await rogue.publishAsync(topics.avl('B', 'NB1'), JSON.stringify({ v: 1, unit: 'NB1', lat: 47.6, lon: -122.3, mode: '3d', at: Date.now() }), { qos: 1 });
    await waitFor(() => seen.includes(topics.avl('B', 'NB1')), { what: 'the allowed publish seen' });
    expect(forged).toEqual([]);
    await rogue.endAsync(true);
    await observer.endAsync(true);
  });

  it('recovers from Mosquitto being killed and restarted: reconnect, re-announce, resubscribe, resync', async () => {
    const sb = precinct.sectors.get('B')!;
    const since = Date.now();
    await mosq.restart(); // SIGKILL, then start on the same port (persistence off: retained gone)
    await cars[2]!.replica.update((d) => board.setUnitStatus(d, { unitId: 'NB3', status: 'out_of_service', reason: 'fuel' }, asCar(cars[2]!))).catch(() =>
      cars[2]!.replica.update((d) => board.signOn(d, { unitId: 'NB3', officers: ['Ofc. Diaz'] }, asCar(cars[2]!))),
    );
    await waitFor(() => cars.every((v) => v.transport.isOnline()) && precinct.transport.isOnline(), { what: 'everyone reconnected', timeoutMs: 20_000 });
    await waitFor(() => CARS.every((c) => (sb.presence.get(c.unit)?.at ?? 0) >= since && sb.presence.get(c.unit)?.state === 'online'), { what: 'presence re-announced' });
    const nb3 = cars[2]!.replica.view().units.NB3?.status;
    await waitFor(() => sb.replica.view().units.NB3?.status === nb3, { what: 'outage edit at the precinct' });
    const { id } = await postCall(precinct, await fleet.operatorToken(precinct), { type: 'Alarm', priority: 2, address: '2 Market St', beat: 'B2' });
    await waitFor(() => cars.every((v) => v.replica.view().calls[id]), { what: 'post-restart call on every car', timeoutMs: 15_000 });
  });
});
