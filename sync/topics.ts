// The MQTT topic layout, version 1 (docs/sync-protocol.md). Every topic the system uses is built
// and parsed here so the ACL, the broker, the cars and the precinct agree on one shape.
//
//   mdt/v1/sync/{sector}/{from}/{to}     Automerge sync messages, QoS 1, never retained
//   mdt/v1/avl/{sector}/{unit}           latest position of a unit, QoS 0, retained
//   mdt/v1/presence/{sector}/{unit}      online/offline + device health, QoS 1, retained (LWT)
//   mdt/v1/alert/{sector}/{unit}         emergency alerts, QoS 1
//   mdt/v1/roster/{sector}/{precinct}    the sector's officers (badge, PIN hash) for sign-on, QoS 1, retained
//   mdt/v1/epoch/{sector}/{precinct}     the sector board's current epoch (sync/epoch-announce.ts), QoS 1, retained
//
// Ids are restricted to [A-Za-z0-9_.-] so they can never inject '/', '+' or '#' into a topic.

export const TOPIC_ROOT = 'mdt/v1';

const ID = /^[A-Za-z0-9_.-]{1,40}$/;

export function isTopicId(id: string): boolean {
  return ID.test(id);
}

function check(kind: string, id: string): string {
  if (!ID.test(id)) throw new Error(`invalid ${kind} id for a topic: ${JSON.stringify(id)}`);
  return id;
}

export const topics = {
  sync: (sector: string, from: string, to: string) =>
    `${TOPIC_ROOT}/sync/${check('sector', sector)}/${check('peer', from)}/${check('peer', to)}`,
  syncInbox: (sector: string, me: string) => `${TOPIC_ROOT}/sync/${check('sector', sector)}/+/${check('peer', me)}`,
  avl: (sector: string, unit: string) => `${TOPIC_ROOT}/avl/${check('sector', sector)}/${check('unit', unit)}`,
  avlAll: (sector: string) => `${TOPIC_ROOT}/avl/${check('sector', sector)}/+`,
  presence: (sector: string, unit: string) =>
    `${TOPIC_ROOT}/presence/${check('sector', sector)}/${check('unit', unit)}`,
  presenceAll: (sector: string) => `${TOPIC_ROOT}/presence/${check('sector', sector)}/+`,
  alert: (sector: string, unit: string) => `${TOPIC_ROOT}/alert/${check('sector', sector)}/${check('unit', unit)}`,
  alertAll: (sector: string) => `${TOPIC_ROOT}/alert/${check('sector', sector)}/+`,
  roster: (sector: string, precinct: string) => `${TOPIC_ROOT}/roster/${check('sector', sector)}/${check('precinct', precinct)}`,
  rosterAll: (sector: string) => `${TOPIC_ROOT}/roster/${check('sector', sector)}/+`,
  epoch: (sector: string, precinct: string) => `${TOPIC_ROOT}/epoch/${check('sector', sector)}/${check('precinct', precinct)}`,
  epochAll: (sector: string) => `${TOPIC_ROOT}/epoch/${check('sector', sector)}/+`,
};

export type TopicKind = 'sync' | 'avl' | 'presence' | 'alert' | 'roster' | 'epoch';

export type ParsedTopic =
  | { kind: 'sync'; sector: string; from: string; to: string }
  | { kind: 'avl' | 'presence' | 'alert'; sector: string; unit: string }
  | { kind: 'roster'; sector: string; precinct: string }
  | { kind: 'epoch'; sector: string; precinct: string };

/** Parses a concrete topic (no wildcards); undefined for anything outside the layout. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'mdt' || parts[1] !== 'v1') return undefined;
  const [, , kind, sector, a, b, ...rest] = parts;
  if (rest.length > 0 || !sector || !ID.test(sector) || !a || !ID.test(a)) return undefined;
  if (kind === 'sync') {
    if (!b || !ID.test(b)) return undefined;
    return { kind, sector, from: a, to: b };
  }
  if ((kind === 'avl' || kind === 'presence' || kind === 'alert') && b === undefined) {
    return { kind, sector, unit: a };
  }
  if (kind === 'roster' && b === undefined) return { kind, sector, precinct: a };
  if (kind === 'epoch' && b === undefined) return { kind, sector, precinct: a };
  return undefined;
}
