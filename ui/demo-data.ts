// Invented beat profiles, beat plans and a CARE report for the sample department's sector B, so
// the demo and the screen's tests show a realistic beat page and inbox. Beat geometry is real
// (Seattle PD open data); everything here is fiction.
import type { UpsertBeatInput, DeliverReportInput } from '../sync/board.js';

export const SAMPLE_BEATS: UpsertBeatInput[] = [
  {
    id: 'B1',
    name: 'Ballard North',
    profile: {
      characteristics: 'Dense residential streets north of NW Market St; busy bar district on Ballard Ave on weekend nights; marina along Shilshole.',
      resources: ['Ballard Neighborhood Station (report writing, restroom)', 'Swedish Ballard emergency department', 'Ballard Commons Park (foot patrol)'],
      crimeProblems: ['Vehicle prowls near the marina lots', 'Weekend-night assaults outside bars on Ballard Ave NW', 'Known aggressive dog at 6500 block 24th Ave NW'],
    },
    plans: [
      {
        id: 'B1-2026-1',
        problem: 'Vehicle prowls in the Shilshole marina lots',
        analysis: '38 reports in 90 days, 70% between 01:00 and 05:00, unlit north lot.',
        response: 'Bicycle patrol 00:00-04:00 Thu-Sat; lighting request with the port; signs.',
        assessment: 'Review after 60 days against the same period last year.',
      },
    ],
  },
  {
    id: 'B2',
    name: 'Sunset Hill',
    profile: {
      characteristics: 'Quiet single-family area with a view park; steep streets; few through routes.',
      resources: ['Sunset Hill Community Club (meetings)', 'Golden Gardens park ranger office'],
      crimeProblems: ['Package thefts on weekday afternoons', 'Golden Gardens parking lot after-hours gatherings'],
    },
    plans: [],
  },
  {
    id: 'B3',
    name: 'Ballard South',
    profile: {
      characteristics: 'Industrial waterfront along the ship canal and mixed-use blocks on Leary Way.',
      resources: ['Ballard Locks security office', 'Fishermen\'s Terminal harbor office'],
      crimeProblems: ['Commercial burglaries along Leary Way NW', 'RV encampment on Shilshole Ave NW: needle hazard reported'],
    },
    plans: [
      {
        id: 'B3-2026-1',
        problem: 'Night-time commercial burglaries on Leary Way NW',
        analysis: 'Entry through rear doors off the alley; same three blocks; tools left behind.',
        response: 'Business watch with owners, alley lighting, directed patrol 02:00-05:00.',
        assessment: 'Count burglaries monthly; meet the business watch each quarter.',
      },
    ],
  },
];

export function sampleReport(unitId: string, beat: string, now: number): DeliverReportInput {
  return {
    id: `CARE-${beat}-0001`,
    beat,
    title: 'Hit and run, parked car (insurance report)',
    body: 'Caller reports a parked car struck overnight in front of 2400 NW 65th St; no suspect information; report taken by CARE for insurance.',
    incidentAt: now - 10 * 3600_000,
    recipients: [{ kind: 'unit', id: unitId }],
  };
}
