// Revoking a stolen MDT at the precinct cuts its open broker connection at once, and the broker
// refuses it from then on: the car never comes back online.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, type Fleet } from '../../helpers/fleet.js';
import { sleep, waitFor } from '../../helpers/wait-for.js';

describe('revocation of a connected car', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await createFleet();
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('cuts the connection and refuses every reconnect', async () => {
    const precinct = await fleet.addPrecinct({ id: 'N' });
    const stolen = await fleet.addVehicle({ precinct, vehicleId: 'V4001', unit: 'NB11', beat: 'B1' });
    const other = await fleet.addVehicle({ precinct, vehicleId: 'V4002', unit: 'NB21', beat: 'B2' });
    await waitFor(() => stolen.transport.isOnline() && other.transport.isOnline(), { what: 'both cars online' });

    expect(await precinct.registry.revoke('V4001')).toBe(true);
    await waitFor(() => !stolen.transport.isOnline(), { what: 'revoked car cut off', timeoutMs: 5000 });
    // Reconnect attempts keep coming (backoff 0.5 s upwards); none may succeed.
    for (let i = 0; i < 20; i++) {
      expect(stolen.transport.isOnline()).toBe(false);
      await sleep(150);
    }
    expect(other.transport.isOnline()).toBe(true);
  });
});
