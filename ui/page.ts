// The page shell, server-rendered with the current fragments filled in: the first paint shows
// the real screen without waiting for any script. assets/screen.js then keeps it live from the
// SSE stream; assets/emergency.js (separate, tiny) drives the emergency button on its own.
import { h, raw } from './views/html.js';
import { DISPOSITION_OPTIONS, type Fragments, type ScreenMeta } from './views/fragments.js';
import { beatLayer, type Projection } from './views/map.js';
import type { VehicleScreen } from './screen.js';

export type Theme = 'day' | 'night';

export const OOS_REASONS = ['Meal break', 'Report writing', 'Vehicle problem', 'Court', 'Training', 'Personal'];

export function renderPage(opts: {
  screen: VehicleScreen;
  csrf: string;
  theme: Theme;
  frags: Fragments;
  meta: ScreenMeta;
  projection: Projection | undefined;
  /** Names the frame rendered into this page, so the event stream sends only later changes. */
  frameId?: string;
}): string {
  const { screen, csrf, theme, frags, meta, projection } = opts;
  const id = screen.identity;
  const f = (k: keyof Fragments) => raw(frags[k]);
  const statusButton = (status: string, label: string) =>
    h`<button type="button" class="status-btn s-${status}" data-status="${status}" aria-pressed="${meta.status === status ? 'true' : 'false'}">${label}</button>`;
  const tab = (view: string, label: string, key: string, extra: ReturnType<typeof h> | '' = '') =>
    h`<button type="button" role="tab" id="tab-${view}" data-view="${view}" aria-controls="view-${view}" aria-selected="${view === 'queue' ? 'true' : 'false'}" aria-keyshortcuts="Alt+${key}">${label}${extra}</button>`;
  return h`<!doctype html>
<html lang="en" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="${theme === 'night' ? 'dark' : 'light'}">
<meta name="mdt-csrf" content="${csrf}">
<meta name="mdt-frame" content="${opts.frameId ?? ''}">
<title>MDT ${id.callSign}</title>
<link rel="stylesheet" href="/assets/screen.css">
<script src="/assets/emergency.js" defer></script>
<script src="/assets/screen.js" defer></script>
</head>
<body data-session="${meta.session}" data-status="${meta.status ?? ''}">
<header class="bar">
  <div class="hd unit"><span class="label">Unit</span><strong id="unit">${id.callSign}</strong><span class="muted small">${id.sector} · beat ${id.homeBeat}</span></div>
  <div class="hd"><span class="label">Status</span><span id="hdr-status" aria-live="polite">${f('hdr-status')}</span></div>
  <div class="hd call"><span class="label">Call</span><span id="hdr-call">${f('hdr-call')}</span></div>
  <div class="hd"><span class="label">GPS</span><span id="hdr-gps">${f('hdr-gps')}</span></div>
  <div class="hd"><span class="label">Signal</span><span id="hdr-modem">${f('hdr-modem')}</span></div>
  <div class="hd"><span class="label">Link</span><span id="hdr-link" aria-live="polite">${f('hdr-link')}</span></div>
  <div class="hd clock"><span class="label">Time</span><time id="clock">--:--</time></div>
</header>
<div id="alerts">${f('alerts')}</div>
<div id="banner" aria-live="assertive">${f('banner')}</div>
<div id="msg-alert" aria-live="assertive">${f('msg-alert')}</div>
<div class="layout">
  <nav class="tabs" role="tablist" aria-label="Screens">
    ${tab('queue', 'Queue', '1')}${tab('call', 'Call', '2')}${tab('map', 'Map', '3')}${tab('inbox', 'Inbox', '4', h` <span id="inbox-count">${f('inbox-count')}</span>`)}${tab('beat', 'Beat', '5')}
    <div class="tools">
      <button type="button" id="theme" aria-label="Switch to ${theme === 'night' ? 'day' : 'night'} theme">${theme === 'night' ? 'Day' : 'Night'}</button>
      <button type="button" id="lock-btn" class="when-active">Lock</button>
      <button type="button" id="signoff-btn" class="when-active">Sign off</button>
    </div>
  </nav>
  <main id="main">
    <section id="view-queue" role="tabpanel" aria-labelledby="tab-queue"><h1 class="sr-only">Call queue</h1><div id="queue">${f('queue')}</div></section>
    <section id="view-call" role="tabpanel" aria-labelledby="tab-call" hidden><h1 class="sr-only">Call detail</h1>
      <p id="no-call" class="muted">Choose a call in the queue to see its detail.</p><div id="detail">${f('detail')}</div></section>
    <section id="view-map" role="tabpanel" aria-labelledby="tab-map" hidden><h1 class="sr-only">Sector map</h1>
      ${projection
        ? h`<svg id="map" viewBox="0 0 ${projection.width} ${projection.height}" role="img" aria-label="Map of sector ${id.sector}: beats, units and open calls" preserveAspectRatio="xMidYMid meet">
        <g id="map-beats">${beatLayer(screen.department, id.sector, projection, id.homeBeat)}</g><g id="map-dyn">${f('map-dyn')}</g></svg>
        <p class="legend"><span class="lg me"></span> this car <span class="lg other"></span> other units <span class="lg call"></span> open call (number = priority) <span class="lg home"></span> home beat</p>`
        : h`<p class="muted">No beat boundaries for sector ${id.sector} in the department file.</p>`}
    </section>
    <section id="view-inbox" role="tabpanel" aria-labelledby="tab-inbox" hidden><h1 class="sr-only">Inbox</h1><div id="inbox">${f('inbox')}</div></section>
    <section id="view-beat" role="tabpanel" aria-labelledby="tab-beat" hidden><h1 class="sr-only">Beat</h1><div id="beat">${f('beat')}</div></section>
  </main>
  <aside class="rail" aria-label="My status">
    ${statusButton('available', 'Available')}${statusButton('en_route', 'En route')}${statusButton('on_scene', 'On scene')}${statusButton('transporting', 'Transporting')}
    <button type="button" class="status-btn s-out_of_service" data-oos="1" data-status-like="out_of_service" aria-pressed="${meta.status === 'out_of_service' ? 'true' : 'false'}">Out of service…</button>
  </aside>
</div>
<button type="button" id="emergency" class="emergency" aria-describedby="emergency-help"><span class="em-fill" aria-hidden="true"></span><span class="em-text">EMERGENCY</span></button>
<p id="emergency-help" class="sr-only">Press and hold for one and a half seconds to send an emergency alert.</p>

<div id="lock" role="dialog" aria-modal="true" aria-labelledby="lock-title">
  <div class="lock-box">
    <p id="lock-title" class="lock-unit">${id.callSign} <span class="muted">· sector ${id.sector}</span></p>
    <div id="lock-info">${f('lock-info')}</div>
    <form id="signon-form" class="when-signed-off" autocomplete="off">
      <label for="badge">Badge number</label><input id="badge" name="badge" inputmode="numeric" autocomplete="off" required maxlength="16" pattern="[A-Za-z0-9-]{1,16}">
      <label for="pin">PIN</label><input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required maxlength="12">
      <button type="submit" class="primary big">Sign on</button>
    </form>
    <form id="unlock-form" class="when-locked" autocomplete="off">
      <label for="unlock-pin">PIN</label><input id="unlock-pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required maxlength="12">
      <button type="submit" class="primary big">Unlock</button>
    </form>
    <div class="keypad" aria-label="Number pad">${['1', '2', '3', '4', '5', '6', '7', '8', '9', 'Clear', '0', 'Del'].map((k) => h`<button type="button" data-key="${k}" tabindex="-1">${k}</button>`)}</div>
    <p id="lock-error" class="error" role="alert"></p>
  </div>
</div>

<dialog id="note-dialog" aria-labelledby="note-title"><form id="note-form" method="dialog">
  <h2 id="note-title">Add to the narrative</h2><p class="muted" id="note-call"></p>
  <label for="note-text">Note</label><textarea id="note-text" name="text" rows="5" maxlength="2000" required></textarea>
  <div class="row"><button type="submit" class="primary big">Add note</button><button type="button" class="big" data-close>Cancel</button></div></form></dialog>
<dialog id="msg-dialog" aria-labelledby="msg-title"><form id="msg-form" method="dialog">
  <h2 id="msg-title">New message</h2>
  <fieldset><legend>To</legend><div id="msg-to" class="choices">${f('msg-to')}</div></fieldset>
  <label for="msg-text">Message</label><textarea id="msg-text" name="text" rows="4" maxlength="1000" required></textarea>
  <div class="row"><button type="submit" class="primary big">Send</button><button type="button" class="big" data-close>Cancel</button></div></form></dialog>
<dialog id="clear-dialog" aria-labelledby="clear-title"><form id="clear-form" method="dialog">
  <h2 id="clear-title">Clear the call: disposition</h2><p class="muted" id="clear-call"></p>
  <div class="grid-buttons">${DISPOSITION_OPTIONS.map((d) => h`<button type="button" data-disposition="${d.code}"><b>${d.code}</b> ${d.label}</button>`)}</div>
  <div class="row"><button type="button" class="big" data-close>Cancel</button></div></form></dialog>
<dialog id="oos-dialog" aria-labelledby="oos-title"><form method="dialog">
  <h2 id="oos-title">Out of service: reason</h2>
  <div class="grid-buttons">${OOS_REASONS.map((r) => h`<button type="button" data-status="out_of_service" data-reason="${r}">${r}</button>`)}</div>
  <div class="row"><button type="button" class="big" data-close>Cancel</button></div></form></dialog>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>`.value;
}
