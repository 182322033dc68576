// Pure interpretation of 3GPP TS 27.007 network-status responses: signal (AT+CSQ, §8.5),
// registration (AT+CREG? §7.2, AT+CEREG? §10.1.22) and operator (AT+COPS? §7.3).
import { atParams } from './at-port.js';
import type { Registration } from './types.js';

/**
 * AT+CSQ `<rssi>`: 0 = -113 dBm or less, 1 = -111 dBm, 2..30 = -109..-53 dBm in 2 dB steps,
 * 31 = -51 dBm or more, 99 = not known or not detectable. So dBm = -113 + 2 * rssi.
 */
export function csqToDbm(rssi: number): number | undefined {
  if (!Number.isInteger(rssi) || rssi < 0 || rssi > 31) return undefined;
  return -113 + 2 * rssi;
}

/**
 * Status-bar bars (0..5) from dBm. Thresholds are ours, 10 dB apart from -73 dBm, close to what
 * handsets show for GSM/UMTS RSSI; unknown signal shows no bars.
 */
export function dbmToBars(dbm: number | undefined): number {
  if (dbm === undefined) return 0;
  if (dbm >= -73) return 5;
  if (dbm >= -83) return 4;
  if (dbm >= -93) return 3;
  if (dbm >= -103) return 2;
  if (dbm >= -111) return 1;
  return 0;
}

/** `+CSQ: <rssi>,<ber>` -> rssi in dBm (undefined for 99 / unparseable). */
export function parseCsq(line: string | undefined): { rssiDbm: number | undefined } | undefined {
  if (!line?.startsWith('+CSQ:')) return undefined;
  const rssi = Number(atParams(line)[0]);
  return { rssiDbm: csqToDbm(rssi) };
}

/**
 * `<stat>` of +CREG/+CGREG/+CEREG: 0 not registered and not searching, 1 registered home,
 * 2 searching, 3 denied, 4 unknown, 5 registered roaming, 6/7 home/roaming "SMS only",
 * 8 attached for emergency bearer services only, 9/10 home/roaming "CSFB not preferred".
 */
export function statToRegistration(stat: number): Registration {
  switch (stat) {
    case 1:
    case 6:
    case 9:
      return 'home';
    case 5:
    case 7:
    case 10:
      return 'roaming';
    case 2:
      return 'searching';
    case 3:
      return 'denied';
    case 0:
    case 8:
      return 'not_registered';
    default:
      return 'unknown';
  }
}

/**
 * `<AcT>` (TS 27.007 §7.3): 0 GSM, 1 GSM Compact, 2 UTRAN, 3 GSM w/EGPRS, 4 UTRAN w/HSDPA,
 * 5 UTRAN w/HSUPA, 6 UTRAN w/HSDPA+HSUPA, 7 E-UTRAN, 8 EC-GSM-IoT, 9 E-UTRAN (NB-S1),
 * 10 E-UTRA connected to 5GCN, 11 NR connected to 5GCN, 12 NG-RAN, 13 E-UTRA-NR dual connectivity.
 */
export function actToTech(act: number): string | undefined {
  const names: Record<number, string> = {
    0: 'GSM',
    1: 'GSM',
    2: 'UMTS',
    3: 'EDGE',
    4: 'HSPA',
    5: 'HSPA',
    6: 'HSPA',
    7: 'LTE',
    8: 'EC-GSM-IoT',
    9: 'NB-IoT',
    10: 'LTE',
    11: '5G NR',
    12: '5G NR',
    13: 'LTE+NR',
  };
  return names[act];
}

/**
 * Read form of +CREG/+CGREG/+CEREG: `<n>,<stat>[,<lac/tac>,<ci>[,<AcT>...]]`. An unsolicited
 * +CREG (n=1) has only `<stat>`; with n=2 it is `<stat>,<lac>,<ci>[,<AcT>]`. `solicited` picks
 * which layout to read.
 */
export function parseRegistration(
  line: string | undefined,
  solicited = true,
): { registration: Registration; tech?: string } | undefined {
  if (!line || !/^\+C(E|G)?REG:/.test(line)) return undefined;
  const p = atParams(line);
  const statIndex = solicited ? 1 : 0;
  const stat = Number(p[statIndex]);
  if (p[statIndex] === undefined || !Number.isInteger(stat)) return undefined;
  const actRaw = p[statIndex + 3];
  const tech = actRaw !== undefined && actRaw !== '' ? actToTech(Number(actRaw)) : undefined;
  return { registration: statToRegistration(stat), ...(tech && { tech }) };
}

/** `+COPS: <mode>[,<format>,<oper>[,<AcT>]]`; a bare `+COPS: 0` means no operator selected. */
export function parseCops(line: string | undefined): { operator?: string; tech?: string } | undefined {
  if (!line?.startsWith('+COPS:')) return undefined;
  const p = atParams(line);
  const operator = p[2] && p[2].length > 0 ? p[2] : undefined;
  const tech = p[3] !== undefined && p[3] !== '' ? actToTech(Number(p[3])) : undefined;
  return { ...(operator && { operator }), ...(tech && { tech }) };
}

const registrationRank: Record<Registration, number> = {
  home: 5,
  roaming: 4,
  searching: 3,
  denied: 2,
  not_registered: 1,
  unknown: 0,
};

/**
 * An LTE-only module reports +CREG 0 (no circuit-switched domain) while +CEREG says registered,
 * and a 2G/3G fallback does the opposite, so the car is registered if either domain is.
 */
export function bestRegistration(...values: Array<Registration | undefined>): Registration {
  let best: Registration = 'unknown';
  for (const v of values) if (v && registrationRank[v] > registrationRank[best]) best = v;
  return best;
}
