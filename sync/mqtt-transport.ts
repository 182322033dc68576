// MQTT.js client wrapper for cars and the precinct service: an ordered broker list with failover,
// backoff with jitter, a birth message and resubscription on every connect, and no offline queue.
// Publishing while offline fails at once: the durable board is the outbox (MQTT.js keeps offline
// publishes only in memory, lost on restart: MQTT.js #398, #607), and a sync round runs on every
// connect instead.
import { EventEmitter } from 'node:events';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from './logger.js';

type MqttConnect = (typeof import('mqtt'))['connect'];
let mqttConnect: Promise<MqttConnect> | undefined;

/**
 * MQTT.js, loaded on the first connect rather than with this module: loading it takes about
 * 300 ms of CPU, which a car would otherwise spend before its screen is served
 * (docs/sector-board.md, "Start").
 */
function loadMqtt(): Promise<MqttConnect> {
  mqttConnect ??= import('mqtt').then(
    (m) => m.connect,
    (err: unknown) => {
      mqttConnect = undefined; // the next reconnect tries again
      throw err;
    },
  );
  return mqttConnect;
}

export interface BrokerEndpoint {
  url: string;
  /** Precinct that runs this broker, for display and roaming decisions. */
  precinct?: string;
  ca?: string;
}

export type LinkState =
  | { state: 'connecting'; broker: string; attempt: number; since: number }
  | { state: 'online'; broker: string; since: number }
  | { state: 'offline'; since: number; lastError?: string; retryInMs?: number };

export interface RetainedMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain: boolean;
}

export interface TransportOptions {
  brokers: BrokerEndpoint[];
  clientId: string;
  username: string;
  password: string;
  log: Logger;
  subscriptions: string[];
  /** Last will (MQTT 3.1.1 §3.1.2.5): published by the broker when the link dies uncleanly. */
  will?: RetainedMessage;
  /** Published on every connect, after subscribing (re-announce). */
  birth?: () => RetainedMessage | undefined;
  /** Seconds. 15 s so a dead link is noticed within ~22 s, not MQTT.js's default 60 s (#1129). */
  keepalive?: number;
  backoff?: { minMs: number; maxMs: number };
  connectTimeoutMs?: number;
}

export interface TransportEvents {
  state: [LinkState];
  /** Fired after subscriptions and birth are in place on a fresh connection. */
  connect: [broker: string];
  message: [topic: string, payload: Buffer, retain: boolean, qos: 0 | 1 | 2];
}

export class MqttTransport extends EventEmitter<TransportEvents> {
  private client: MqttClient | undefined;
  private brokerIndex = 0;
  private attempt = 0;
  /** Counts connectNext() calls, so a connect that waited for MQTT.js knows it is still wanted. */
  private connectAttempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private link: LinkState = { state: 'offline', since: Date.now() };
  private readonly subscriptions: Set<string>;

  constructor(private readonly opts: TransportOptions) {
    super();
    if (opts.brokers.length === 0) throw new Error('at least one broker is required');
    this.subscriptions = new Set(opts.subscriptions);
  }

  /** Adds a subscription now (if online) and on every later connect. Resolves once granted. */
  async subscribe(filter: string): Promise<boolean> {
    this.subscriptions.add(filter);
    const client = this.client;
    if (!client || !this.isOnline()) return false;
    try {
      await client.subscribeAsync(filter, { qos: 1 });
      return true;
    } catch (err) {
      // SUBACK return code 0x80 = failure (MQTT 3.1.1 §3.9.3); MQTT.js rejects on it.
      this.opts.log.error({ filter, err: (err as Error).message }, 'broker refused a subscription');
      return false;
    }
  }

  async unsubscribe(filter: string): Promise<void> {
    this.subscriptions.delete(filter);
    const client = this.client;
    if (client && this.isOnline()) await client.unsubscribeAsync(filter).catch(() => undefined);
  }

  state(): LinkState {
    return this.link;
  }

  isOnline(): boolean {
    return this.link.state === 'online';
  }

  start(): void {
    this.closed = false;
    this.connectNext();
  }

  async publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const client = this.client;
    if (!client || !this.isOnline()) throw new Error('broker link offline');
    await new Promise<void>((resolve, reject) => {
      client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      // A deliberate close is not a link error: silence the handlers before ending.
      client.removeAllListeners();
      client.on('error', () => undefined);
      // A graceful end waits for every in-flight QoS 1 publish to be acknowledged, which never
      // happens on a dead or wedged link (a county bench stop hung here): force it after 2 s.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 2000)));
      const ended = await Promise.race([client.endAsync(false).catch(() => undefined), gaveUp]);
      clearTimeout(timer);
      // MQTT.js ignores end(true) once a graceful end has started (client.js: `if (this.disconnecting)
      // return`), so the socket itself is destroyed.
      if (ended === 'timeout') (client.stream as { destroy?: () => void } | undefined)?.destroy?.();
    }
    this.setState({ state: 'offline', since: Date.now() });
  }

  private setState(s: LinkState): void {
    this.link = s;
    this.emit('state', s);
  }

  private connectNext(): void {
    if (this.closed) return;
    const broker = this.opts.brokers[this.brokerIndex % this.opts.brokers.length]!;
    this.attempt += 1;
    this.setState({ state: 'connecting', broker: broker.url, attempt: this.attempt, since: Date.now() });
    const attempt = ++this.connectAttempts;
    loadMqtt().then(
      (connect) => {
        // Closed, or closed and started again, while MQTT.js was loading: the later start connects.
        if (!this.closed && attempt === this.connectAttempts) this.connect(connect, broker);
      },
      (err: unknown) => {
        if (!this.closed && attempt === this.connectAttempts) this.scheduleReconnect(`MQTT client not loaded: ${(err as Error).message}`);
      },
    );
  }

  private connect(connect: MqttConnect, broker: BrokerEndpoint): void {
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      protocolVersion: 4, // MQTT 3.1.1: what aedes 1.2 and every broker we support speak
      keepalive: this.opts.keepalive ?? 15,
      reconnectPeriod: 0, // failover and backoff are ours (see scheduleReconnect)
      connectTimeout: this.opts.connectTimeoutMs ?? 5000,
      queueQoSZero: false, // stale positions must not flood out after a reconnect
      resubscribe: false, // we resubscribe ourselves, then announce
      ...(broker.ca ? { ca: broker.ca } : {}),
      ...(this.opts.will
        ? {
            will: {
              topic: this.opts.will.topic,
              payload: Buffer.from(this.opts.will.payload),
              qos: this.opts.will.qos,
              retain: this.opts.will.retain,
            },
          }
        : {}),
    };
    const client = connect(broker.url, options);
    this.client = client;
    let failed = false;
    const fail = (reason: string) => {
      if (failed || this.client !== client) return;
      failed = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      this.client = undefined;
      this.scheduleReconnect(reason);
    };
    client.on('connect', () => {
      // Nagle's algorithm holds a small write until the previous one is acknowledged, and the
      // peer delays that acknowledgement (40 ms on Linux) when it has nothing to send back, as
      // after a QoS 0 position: the next sync message would wait for it. MQTT packets are
      // written whole (corked), so this adds no segments.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.onConnected(client, broker).catch((err: unknown) => fail(`setup after connect failed: ${String(err)}`));
    });
    client.on('message', (topic, payload, packet) => {
      try {
        this.emit('message', topic, payload, packet.retain, packet.qos);
      } catch (err) {
        this.opts.log.error({ err, topic }, 'message handler threw; transport continues');
      }
    });
    client.on('error', (err) => {
      this.opts.log.warn({ broker: broker.url, err: err.message }, 'broker link error');
      fail(err.message);
    });
    client.on('close', () => fail('connection closed'));
    client.on('offline', () => fail('offline'));
  }

  private async onConnected(client: MqttClient, broker: BrokerEndpoint): Promise<void> {
    // One SUBSCRIBE per filter: MQTT.js rejects a whole SUBACK when any code is 0x80 (MQTT 3.1.1
    // §3.9.3), and one refused filter must not cost the others (or the link: we stay online).
    const refused: string[] = [];
    await Promise.all(
      [...this.subscriptions].map((f) =>
        client.subscribeAsync(f, { qos: 1 }).catch((err: unknown) => {
          if (this.client !== client) throw err;
          refused.push(f);
        }),
      ),
    );
    if (refused.length > 0) this.opts.log.error({ refused }, "broker refused subscriptions (check the car's sector and the ACL)");
    const birth = this.opts.birth?.();
    if (birth) await client.publishAsync(birth.topic, birth.payload, { qos: birth.qos, retain: birth.retain });
    this.attempt = 0;
    this.setState({ state: 'online', broker: broker.url, since: Date.now() });
    this.opts.log.info({ broker: broker.url }, 'broker link online');
    this.emit('connect', broker.url);
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed) return;
    // Try the next broker in the list: home precinct first, then neighbours, then county.
    this.brokerIndex = (this.brokerIndex + 1) % this.opts.brokers.length;
    const { minMs, maxMs } = this.opts.backoff ?? { minMs: 500, maxMs: 30_000 };
    // Full backoff grows once per full pass over the list; jitter spreads a fleet's reconnects
    // after a precinct restart so 80 cars do not arrive in the same millisecond.
    const pass = Math.floor((this.attempt - 1) / this.opts.brokers.length);
    const ceiling = Math.min(maxMs, minMs * 2 ** pass);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.setState({ state: 'offline', since: Date.now(), lastError: reason, retryInMs: delay });
    this.opts.log.warn({ reason, delayMs: delay, attempt: this.attempt }, 'broker reconnect scheduled');
    this.timer = setTimeout(() => this.connectNext(), delay);
  }
}
