// The screen's live state: renders every fragment from the daemon's read models and pushes the
// ones that changed. Renders are coalesced to one per event-loop turn (a burst of sync messages
// is one push), never delayed by a timer: a board change reaches the page within one SSE write.
import { EventEmitter } from 'node:events';
import type { VehicleScreen } from './screen.js';
import type { OfficerSession } from './session.js';
import { FRAGMENT_IDS, renderFragments, renderMeta, type Fragments, type ScreenMeta } from './views/fragments.js';
import type { Projection } from './views/map.js';
import type { Logger } from '../sync/logger.js';

export interface Push {
  /** Changed fragments by element id (all of them in a full push). */
  f: Partial<Fragments>;
  m: ScreenMeta;
}

/** One rendering of the whole screen, broadcast to every open stream. */
export interface Frame {
  frags: Fragments;
  meta: ScreenMeta;
}

/**
 * Per stream: what it last sent, so each page receives exactly the fragments that differ from
 * what it shows (a page that connected late still gets every later change).
 */
export class StreamDiff {
  private last: Fragments | undefined;
  private lastMeta = '';

  /** Starts from what the page was rendered with, so the first push carries only later changes. */
  seed(frame: Frame): void {
    this.last = frame.frags;
    this.lastMeta = JSON.stringify(frame.meta);
  }

  next(frame: Frame): Push | undefined {
    const changed: Partial<Fragments> = {};
    let any = false;
    for (const id of FRAGMENT_IDS) {
      if (this.last?.[id] !== frame.frags[id]) {
        changed[id] = frame.frags[id];
        any = true;
      }
    }
    const meta = JSON.stringify(frame.meta);
    this.last = frame.frags;
    if (!any && meta === this.lastMeta) return undefined;
    this.lastMeta = meta;
    return { f: changed, m: frame.meta };
  }
}

export class LiveScreen extends EventEmitter<{ frame: [Frame] }> {
  private scheduled = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly screen: VehicleScreen,
    private readonly session: OfficerSession,
    private readonly projection: Projection | undefined,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    const schedule = () => this.schedule();
    // `roster`: the sign-on screen says which roster the car holds; a new one shows at once.
    for (const e of ['board', 'avl', 'presence', 'alert', 'health', 'roster'] as const) {
      screen.events.on(e, schedule);
      this.unsubscribe.push(() => screen.events.off(e, schedule));
    }
    session.on('change', schedule);
    this.unsubscribe.push(() => session.off('change', schedule));
  }

  dispose(): void {
    for (const f of this.unsubscribe.splice(0)) f();
  }

  render(): Frame {
    const s = this.screen;
    const model = {
      identity: s.identity,
      board: this.session.isActive() ? s.board() : undefined,
      health: s.health(),
      positions: s.positions(),
      session: this.session.view(),
      department: s.department,
      stations: s.stations,
      projection: this.projection,
      now: this.now(),
    };
    return { frags: renderFragments(model), meta: renderMeta(model) };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.listenerCount('frame') === 0) return;
      let frame: Frame;
      try {
        frame = this.render();
      } catch (err) {
        // A render bug must not take the daemon down; the page keeps what it shows.
        this.log.error({ err }, 'screen render failed');
        return;
      }
      this.emit('frame', frame);
    });
  }
}
