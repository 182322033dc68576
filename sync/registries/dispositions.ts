// Agency disposition codes (what an officer picks when clearing a call) and the APCO ANS 1.111
// "Common Disposition Codes for Data Exchange" value each maps to in EIDO's
// dispositionCommonRegistryCode. This table is data: an agency edits it, no code changes.
// The APCO names below follow the published list's spelling as far as we could confirm from
// public summaries; docs/sector-board.md records that they need checking against the
// purchased standard before go-live.
export interface DispositionEntry {
  label: string;
  apco: string;
}

export const DISPOSITIONS = {
  ARR: { label: 'Arrest made', apco: 'Arrest' },
  CIT: { label: 'Citation issued', apco: 'Citation' },
  RPT: { label: 'Report taken', apco: 'ReportTaken' },
  NRP: { label: 'No report necessary', apco: 'NoReport' },
  ADV: { label: 'Advised / advice given', apco: 'AdviceGiven' },
  AST: { label: 'Assistance rendered', apco: 'AssistanceRendered' },
  WRN: { label: 'Warning issued', apco: 'Warning' },
  GOA: { label: 'Gone on arrival', apco: 'GoneOnArrival' },
  UNF: { label: 'Unfounded', apco: 'Unfounded' },
  FAL: { label: 'False alarm', apco: 'FalseAlarm' },
  CIV: { label: 'Civil matter', apco: 'CivilMatter' },
  REF: { label: 'Referred to other agency', apco: 'ReferredToOtherAgency' },
  DUP: { label: 'Duplicate call', apco: 'Duplicate' },
  CAN: { label: 'Cancelled by caller', apco: 'CallerCancelled' },
  TRN: { label: 'Transported', apco: 'Transported' },
  CARE: { label: 'Referred to CARE report entry', apco: 'ReportTaken' },
} as const satisfies Record<string, DispositionEntry>;

export type DispositionCode = keyof typeof DISPOSITIONS;

export function isDisposition(code: string): code is DispositionCode {
  return Object.prototype.hasOwnProperty.call(DISPOSITIONS, code);
}
