// Mosquitto as the precinct broker: the acl_file that expresses acl.ts's rules for every vehicle
// of the registry (docs/sync-protocol.md, "Mosquitto"). Mosquitto cannot call our vehicle registry,
// so provisioning keeps two files in step: the password_file (mosquitto_passwd, written when the
// secret is issued, the only moment it is known) and this ACL (regenerated from the registry at
// any time: it holds no secret). What Mosquitto cannot express stays in the precinct station:
// per-topic payload caps beyond max_packet_size, and the author binding of changes.
import { precinctPeerId } from './acl.js';
import { topics, isTopicId, TOPIC_ROOT } from './topics.js';

export interface MosquittoAclInput {
  precinct: string;
  sectors: string[];
  vehicles: Array<{ vehicleId: string; unitId: string; sector: string; revoked?: boolean }>;
  /** Bridges (county broker, neighbouring precincts): may read and write the whole tree. */
  bridges?: string[];
}

function must(id: string): string {
  if (!isTopicId(id)) throw new Error(`not a valid topic id for an ACL: ${JSON.stringify(id)}`);
  return id;
}

export function renderMosquittoAcl(input: MosquittoAclInput): string {
  const lines: string[] = ['# Generated from the mdt vehicle registry (sync/mosquitto-acl.ts); do not edit by hand.', ''];
  const station = precinctPeerId(must(input.precinct));
  lines.push(`user ${station}`);
  for (const s of input.sectors.map(must)) {
    lines.push(
      `topic write ${TOPIC_ROOT}/sync/${s}/${station}/+`,
      `topic read ${topics.syncInbox(s, station)}`,
      `topic read ${topics.presenceAll(s)}`,
      `topic read ${topics.avlAll(s)}`,
      `topic read ${topics.alertAll(s)}`,
      `topic write ${topics.roster(s, input.precinct)}`,
      `topic write ${topics.epoch(s, input.precinct)}`,
    );
  }
  lines.push('');
  for (const v of input.vehicles) {
    // A revoked vehicle keeps no rule: with no matching line Mosquitto denies everything.
    if (v.revoked) continue;
    const [id, unit, s] = [must(v.vehicleId), must(v.unitId), must(v.sector)];
    lines.push(
      `user ${id}`,
      `topic write ${topics.sync(s, id, precinctPeerId(input.precinct))}`,
      `topic read ${topics.syncInbox(s, id)}`,
      `topic write ${topics.presence(s, unit)}`,
      `topic write ${topics.avl(s, unit)}`,
      `topic write ${topics.alert(s, unit)}`,
      `topic read ${topics.presenceAll(s)}`,
      `topic read ${topics.avlAll(s)}`,
      `topic read ${topics.alertAll(s)}`,
      `topic read ${topics.rosterAll(s)}`,
      `topic read ${topics.epochAll(s)}`,
      '',
    );
  }
  for (const b of input.bridges ?? []) lines.push(`user ${must(b)}`, `topic readwrite ${TOPIC_ROOT}/#`, '');
  return lines.join('\n');
}
