// Topic ACL: who may publish or subscribe where. Pure, so every rule is unit-tested.
// The identity comes from authentication (credentials.ts), never from the payload: a car can
// only speak as itself (sync `from` = its vehicle id, avl/presence/alert = its own unit).
import { parseTopic, TOPIC_ROOT } from './topics.js';

export type Identity =
  | { kind: 'vehicle'; vehicleId: string; unitId: string; sector: string; precinct: string }
  /** The precinct station's own client: serves every sector of its precinct. */
  | { kind: 'precinct'; precinct: string; peerId: string; sectors: string[] }
  /**
   * A link from another precinct's station (or a county bridge) relaying roaming cars' traffic.
   * `sectors` confines it to the sectors this precinct serves; absent = the whole tree (county).
   */
  | { kind: 'link'; name: string; sectors?: string[] };

export type AclDecision = { allow: true } | { allow: false; reason: string };

const ALLOW: AclDecision = { allow: true };
const deny = (reason: string): AclDecision => ({ allow: false, reason });

/** Payload caps per topic kind, in bytes: far above honest traffic, far below harm. */
export const PAYLOAD_LIMITS = { sync: 4 * 1024 * 1024, avl: 512, presence: 4096, alert: 2048, roster: 256 * 1024, epoch: 1024 } as const;

export function precinctPeerId(precinct: string): string {
  return `precinct-${precinct}`;
}

export function authorizePublish(id: Identity, topic: string, bytes: number): AclDecision {
  if (topic.startsWith('$SYS')) return deny('$SYS is reserved for the broker'); // keep aedes' default guard (#597)
  const t = parseTopic(topic);
  if (!t) return deny('topic outside the mdt/v1 layout');
  if (bytes > PAYLOAD_LIMITS[t.kind]) return deny(`payload ${bytes} B over the ${t.kind} limit`);
  switch (id.kind) {
    case 'link':
      if (id.sectors && !id.sectors.includes(t.sector)) return deny(`link ${id.name} may not relay sector ${t.sector}`);
      return ALLOW;
    case 'precinct':
      if (!id.sectors.includes(t.sector)) return deny(`sector ${t.sector} is not served by precinct ${id.precinct}`);
      if (t.kind === 'sync' && t.from !== id.peerId) return deny(`precinct may only send sync as ${id.peerId}`);
      if (t.kind === 'roster' && t.precinct !== id.precinct) return deny(`precinct may only publish its own roster`);
      if (t.kind === 'epoch' && t.precinct !== id.precinct) return deny(`precinct may only announce its own epoch`);
      return ALLOW;
    case 'vehicle':
      if (t.sector !== id.sector) return deny(`vehicle ${id.vehicleId} is not in sector ${t.sector}`);
      if (t.kind === 'roster' || t.kind === 'epoch') return deny(t.kind === 'roster' ? 'only the precinct publishes the roster' : 'only the precinct announces the epoch');
      if (t.kind === 'sync') {
        if (t.from !== id.vehicleId) return deny(`sync must be sent as ${id.vehicleId}, not ${t.from}`);
        if (!t.to.startsWith('precinct-')) return deny('cars sync only with a precinct peer');
        return ALLOW;
      }
      if (t.unit !== id.unitId) return deny(`vehicle ${id.vehicleId} may not speak for unit ${t.unit}`);
      return ALLOW;
  }
}

export function authorizeSubscribe(id: Identity, filter: string): AclDecision {
  if (filter.startsWith('$SYS')) return deny('$SYS is reserved for the broker');
  if (!filter.startsWith(`${TOPIC_ROOT}/`)) return deny('filter outside the mdt/v1 layout');
  const parts = filter.split('/');
  if (id.kind === 'link') {
    if (!id.sectors) return ALLOW;
    const sector = parts[3];
    if (parts.length < 5 || parts.includes('#') || !sector || !id.sectors.includes(sector)) {
      return deny(`link ${id.name} may only subscribe inside sectors ${id.sectors.join(', ')}`);
    }
    return ALLOW;
  }
  if (parts.includes('#')) return deny('multi-level wildcards are reserved for precinct links');
  const [, , kind, sector, a, b] = parts;
  if (!kind || !sector || parts.length < 5) return deny('filter too short');
  if (id.kind === 'precinct') {
    if (sector === '+' || id.sectors.includes(sector)) return ALLOW;
    return deny(`sector ${sector} is not served by precinct ${id.precinct}`);
  }
  if (sector !== id.sector) return deny(`vehicle ${id.vehicleId} is not in sector ${sector}`);
  if (kind === 'sync') {
    if (parts.length !== 6 || b !== id.vehicleId) return deny('a car may only read sync addressed to itself');
    return ALLOW;
  }
  if ((kind === 'avl' || kind === 'presence' || kind === 'alert' || kind === 'roster' || kind === 'epoch') && parts.length === 5 && a !== undefined) return ALLOW;
  return deny(`unknown topic kind ${kind}`);
}
