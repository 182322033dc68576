// The console's part of the inbox: per sector, the messages cars sent to dispatch (unread first,
// with a read button) and what dispatch sent; for the precinct, the forms that send a message to
// units and post a neighborhood watch meeting notice. Rendered with hono/html (escapes every value).
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { BoardView, MessageParty } from '../../sync/schema.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const time = (t: number) => new Date(t).toISOString().slice(11, 16) + 'Z';
const party = (p: MessageParty) => (p.kind === 'dispatch' ? 'dispatch' : p.id);

/** Messages to and from dispatch on one sector's board. */
export function sectorMessages(sector: string, board: BoardView, canSend: boolean): Html {
  const all = Object.values(board.messages);
  const toDispatch = all
    .filter((m) => m.to.some((p) => p.kind === 'dispatch'))
    .sort((a, b) => Number(a.readBy.dispatch !== undefined) - Number(b.readBy.dispatch !== undefined) || b.sentAt - a.sentAt);
  const fromDispatch = all.filter((m) => m.from.kind === 'dispatch').sort((a, b) => b.sentAt - a.sentAt).slice(0, 10);
  const unread = toDispatch.filter((m) => m.readBy.dispatch === undefined).length;
  const notices = Object.values(board.notices).sort((a, b) => a.startsAt - b.startsAt);
  return html`<h3 id="messages-${sector}">Messages to dispatch (${unread} unread)</h3>
    ${toDispatch.length === 0
      ? html`<p class="empty">None.</p>`
      : html`<ul class="messages">${toDispatch.map(
          (m) => html`<li data-message="${m.id}" class="${m.readBy.dispatch === undefined ? 'unread' : ''}"><b>${party(m.from)}</b> ${time(m.sentAt)}${m.to.length > 1 ? html` <small>(also to ${m.to.filter((p) => p.kind !== 'dispatch').map(party).join(', ')})</small>` : ''}: ${m.text}
            ${m.readBy.dispatch === undefined
              ? canSend
                ? html` <form method="post" action="/console/messages/${sector}/${m.id}/read"><button>Mark read</button></form>`
                : html` <small>unread</small>`
              : html` <small>read ${time(m.readBy.dispatch)}</small>`}</li>`,
        )}</ul>`}
    ${fromDispatch.length > 0 ? html`<h3>Sent by dispatch</h3><ul class="messages">${fromDispatch.map((m) => html`<li>${time(m.sentAt)} to ${m.to.map(party).join(', ')}: ${m.text} <small>read by ${Object.keys(m.readBy).join(', ') || 'nobody yet'}</small></li>`)}</ul>` : ''}
    <h3>Neighborhood watch meetings</h3>
    ${notices.length === 0 ? html`<p class="empty">None posted.</p>` : html`<ul>${notices.map((n) => html`<li><b>${n.title}</b>${n.beat ? ` (beat ${n.beat})` : ''}: ${new Date(n.startsAt).toISOString().slice(0, 16).replace('T', ' ')}Z, ${n.place}; read by ${Object.keys(n.readBy).join(', ') || 'nobody yet'}</li>`)}</ul>`}`;
}

/** The forms: a message to units (grouped by sector) and a watch meeting notice. */
export function dispatchForms(sectors: Array<{ sector: string; board: BoardView }>, beats: string[]): Html {
  return html`<section class="care" id="dispatch-message"><h2>Message to units</h2>
<form method="post" action="/console/messages" style="display:block">
${sectors.map(
  (s) => html`<fieldset><legend>Sector ${s.sector}</legend>${Object.values(s.board.units)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((u) => html`<label style="display:inline-block;margin-right:1rem"><input type="checkbox" name="to" value="${s.sector}/${u.id}"> ${u.id} (${u.homeBeat}, ${u.status.replace(/_/g, ' ')})</label>`)}</fieldset>`,
)}
<label>Message <textarea name="text" required maxlength="1000" rows="3" cols="80"></textarea></label>
<button>Send</button></form></section>
<section class="care" id="notice"><h2>Neighborhood watch meeting notice</h2>
<form method="post" action="/console/notices" style="display:block">
<label>Title <input name="title" required maxlength="200" size="60"></label>
<label>Beat (optional; without one, every sector of the precinct) <select name="beat"><option value="">all sectors</option>${beats.map((b) => html`<option>${b}</option>`)}</select></label>
<label>Starts (UTC) <input name="startsAt" type="datetime-local" required></label>
<label>Place <input name="place" required maxlength="200" size="60"></label>
<label>Details <textarea name="details" maxlength="2000" rows="3" cols="80"></textarea></label>
<button>Post to the cars</button></form></section>`;
}
