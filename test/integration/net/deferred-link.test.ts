// The car's start order on a real aedes broker: the officer's screen is served with the board
// before the broker link starts (loading MQTT.js would otherwise delay it), the link then comes
// up by itself, /healthz never claims it early, and a car stopped before its link started never
// connects. daemon/first-screen.ts; docs/sector-board.md, "Start".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkState } from '../../../sync/mqtt-transport.js';
import type { RunningPrecinct } from '../../../daemon/precinct.js';
import type { RunningVehicle } from '../../../daemon/vehicle.js';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { sleep, waitFor } from '../../helpers/wait-for.js';

interface Health {
  ok: boolean;
  broker: LinkState;
  sync: { docId: string };
}

const health = async (v: RunningVehicle): Promise<Health> => (await (await fetch(new URL('/healthz', v.url))).json()) as Health;

/** The link's states from now on, each with the time it was entered. */
function recordLink(v: RunningVehicle): Array<{ state: LinkState['state']; at: number }> {
  const seen: Array<{ state: LinkState['state']; at: number }> = [];
  v.transport.on('state', (s) => seen.push({ state: s.state, at: Date.now() }));
  return seen;
}

describe('vehicle start: screen first, broker link right after', () => {
  let fleet: Fleet;
  let precinct: RunningPrecinct;

  beforeAll(async () => {
    fleet = await createFleet();
    precinct = await fleet.addPrecinct({ id: 'N' });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('serves the screen with the board before the link starts, then the link comes up and /healthz says so', async () => {
    // A fallback longer than the test: only the served screen can start the link here.
    const v = await fleet.addVehicle({ precinct, vehicleId: 'V31', unit: 'NB31', beat: 'B1', linkStartFallbackMs: 60_000 });
    const link = recordLink(v);
    expect(v.transport.state().state).toBe('offline');

    const before = await health(v);
    expect(before.broker.state).toBe('offline');
    expect(before.ok).toBe(false);
    expect(before.sync.docId).toBe(v.replica.docId);
    // Answering /healthz is not serving the screen: the link still waits.
    await sleep(100);
    expect(link).toEqual([]);

    const requestedAt = Date.now();
    const page = await fetch(v.url);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('NB31');
    await waitFor(() => v.transport.isOnline(), { what: 'V31 online after its screen was served' });
    expect(link[0]).toMatchObject({ state: 'connecting' });
    expect(link[0]!.at).toBeGreaterThanOrEqual(requestedAt);
    const after = await health(v);
    expect(after.broker).toMatchObject({ state: 'online', broker: precinct.brokerUrl });
    // The link is the real one: the car's board syncs with the precinct over it.
    await waitFor(() => v.sync.inSync('precinct-N'), { what: 'V31 in sync with precinct N' });
  });

  it('starts the link without any screen after the fallback, and reconnects after the broker drops it', async () => {
    const v = await fleet.addVehicle({ precinct, vehicleId: 'V32', unit: 'NB32', beat: 'B2', linkStartFallbackMs: 200 });
    const link = recordLink(v);
    await waitFor(() => v.transport.isOnline(), { what: 'V32 online with nobody asking for its screen' });
    expect(link.map((s) => s.state)).toEqual(['connecting', 'online']);
    expect(await precinct.broker!.disconnectVehicle('V32')).toBe(1);
    await waitFor(() => link.some((s) => s.state === 'offline'), { what: 'V32 dropped by the broker' });
    await waitFor(() => v.transport.isOnline(), { what: 'V32 back online' });
    expect(link.map((s) => s.state).slice(-2)).toEqual(['connecting', 'online']);
  });

  it('never connects a car stopped before its link started', async () => {
    const v = await fleet.addVehicle({ precinct, vehicleId: 'V33', unit: 'NB33', beat: 'B3', linkStartFallbackMs: 150 });
    const link = recordLink(v);
    await v.stop();
    fleet.vehicles.splice(fleet.vehicles.indexOf(v), 1);
    await sleep(400);
    expect(link.map((s) => s.state)).not.toContain('connecting');
    expect(v.transport.state().state).toBe('offline');
  });
});
