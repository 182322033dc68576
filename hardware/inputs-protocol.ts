// The vehicle interface module's line protocol (docs/hardware.md, "Vehicle inputs"): ASCII lines
// over a serial link, LF-terminated (CR tolerated), with an optional NMEA-style checksum
// `*HH` (XOR of the bytes between the start of the line and `*`), because a car's 12 V wiring
// is electrically noisy and a flipped bit must not raise a false emergency.
//
//   module -> MDT   IN <EMERG|IGN|LIGHTS> <0|1>   level of one input, on change and on query
//                   HB [seq]                      heartbeat, once a second
//                   ID <text>                     identification, on query
//   MDT -> module   ?                             query: the module answers ID and every IN
import type { InputName } from './types.js';

export const MODULE_INPUT_NAMES: Record<string, InputName> = {
  EMERG: 'emergency',
  IGN: 'ignition',
  LIGHTS: 'lights',
};

export const QUERY_COMMAND = '?';

/** Longest line the protocol produces; anything longer is noise. */
export const MAX_MODULE_LINE = 80;

export type ModuleLine =
  | { kind: 'input'; input: InputName; active: boolean }
  | { kind: 'heartbeat'; seq?: number }
  | { kind: 'id'; text: string }
  | { kind: 'rejected'; reason: string };

export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/** Appends `*HH`. */
export function withChecksum(body: string): string {
  return `${body}*${checksum(body)}`;
}

export function parseModuleLine(raw: string): ModuleLine {
  const line = raw.replace(/\r/g, '').trim();
  if (line.length === 0) return { kind: 'rejected', reason: 'empty line' };
  if (line.length > MAX_MODULE_LINE) return { kind: 'rejected', reason: `line of ${line.length} chars exceeds ${MAX_MODULE_LINE}` };
  if (!/^[\x20-\x7e]+$/.test(line)) return { kind: 'rejected', reason: 'non-ASCII bytes (line noise?)' };
  let body = line;
  const star = line.lastIndexOf('*');
  if (star >= 0) {
    body = line.slice(0, star);
    const given = line.slice(star + 1).toUpperCase();
    if (!/^[0-9A-F]{2}$/.test(given)) return { kind: 'rejected', reason: 'malformed checksum' };
    if (given !== checksum(body)) return { kind: 'rejected', reason: `checksum ${given} does not match ${checksum(body)}` };
  }
  const words = body.trim().split(/\s+/);
  const verb = words[0]!.toUpperCase();
  if (verb === 'IN') {
    if (words.length !== 3) return { kind: 'rejected', reason: 'IN needs a name and a level' };
    const input = MODULE_INPUT_NAMES[words[1]!.toUpperCase()];
    if (!input) return { kind: 'rejected', reason: `unknown input ${words[1]!.slice(0, 16)}` };
    if (words[2] !== '0' && words[2] !== '1') return { kind: 'rejected', reason: 'level must be 0 or 1' };
    return { kind: 'input', input, active: words[2] === '1' };
  }
  if (verb === 'HB') {
    if (words.length === 1) return { kind: 'heartbeat' };
    const seq = Number(words[1]);
    if (words.length === 2 && Number.isInteger(seq) && seq >= 0) return { kind: 'heartbeat', seq };
    return { kind: 'rejected', reason: 'malformed heartbeat' };
  }
  if (verb === 'ID') return { kind: 'id', text: words.slice(1).join(' ') };
  return { kind: 'rejected', reason: `unknown verb ${verb.slice(0, 16)}` };
}
