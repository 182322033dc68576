// Runs a car's deferred start work (the broker link) once the officer's screen is up. Loading the
// MQTT client blocks the event loop for about 300 ms; done before the first page, it stood between
// the daemon's start and the screen (docs/sector-board.md, "Start"). With nobody asking for the
// screen (the kiosk not up yet, a car run headless), a short fallback starts the work anyway.

type Fetch<A extends unknown[]> = (request: Request, ...rest: A) => Response | Promise<Response>;

export class FirstScreenGate {
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  /**
   * @param run the deferred work; runs once, after the first screen or the fallback, never after cancel()
   * @param fallbackMs how long after arm() the work waits for a first screen
   */
  constructor(
    private readonly run: () => void,
    private readonly fallbackMs: number,
  ) {
    if (!(fallbackMs >= 0)) throw new Error(`fallbackMs must be a non-negative number of ms, got ${fallbackMs}`);
  }

  /** The screen's handler, watched for the first `GET /` it answers with the page. */
  wrap<A extends unknown[]>(fetch: Fetch<A>): Fetch<A> {
    return async (request, ...rest) => {
      const response = await fetch(request, ...rest);
      if (!this.done && response.ok && request.method === 'GET' && new URL(request.url).pathname === '/') {
        // The response is written to the socket when this promise resolves; the work comes after.
        setImmediate(() => this.fire());
      }
      return response;
    };
  }

  /** Starts the fallback clock: call it once the screen is listening. */
  arm(): void {
    if (this.done || this.timer) return;
    this.timer = setTimeout(() => this.fire(), this.fallbackMs);
  }

  /** The deferred work will not run (the daemon stops before it did). */
  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  private fire(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.run();
  }
}
