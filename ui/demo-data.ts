// Invented beat profiles, beat plans, a CARE report and watch meeting notices for the sample
// department's sector B, so
// the demo and the screen's tests show a realistic beat page and inbox. Beat geometry is real
// (Seattle PD open data); everything here is fiction.
import type { UpsertBeatInput, DeliverReportInput, PostNoticeInput } from '../sync/board.js';

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

const MEETINGS: Array<Omit<PostNoticeInput, 'startsAt'> & { inDays: number; hour: number; minute: number }> = [
  { id: 'NW-B1-1', beat: 'B1', title: 'Ballard block watch captains', place: 'Ballard Neighborhood Station, community room', details: 'Crime prevention coordinator, (555) 010-4420. Marina vehicle prowls on the agenda.', inDays: 2, hour: 19, minute: 0 },
  { id: 'NW-B2-1', beat: 'B2', title: 'Sunset Hill neighborhood watch', place: 'Sunset Hill Community Club, 3003 NW 66th St', details: 'Package thefts on weekday afternoons.', inDays: 5, hour: 18, minute: 30 },
  { id: 'NW-B3-1', beat: 'B3', title: 'Market Street business watch', place: 'Ballard Neighborhood Station', details: 'Alley lighting on Leary Way NW.', inDays: 9, hour: 8, minute: 0 },
];

/** The invented watch meetings of the given beats, in the coming days (local time). */
export function sampleNotices(beats: readonly string[], now: number): PostNoticeInput[] {
  return MEETINGS.filter((m) => m.beat !== undefined && beats.includes(m.beat)).map(({ inDays, hour, minute, ...m }) => {
    const d = new Date(now);
    d.setDate(d.getDate() + inDays);
    d.setHours(hour, minute, 0, 0);
    return { ...m, startsAt: d.getTime() };
  });
}
