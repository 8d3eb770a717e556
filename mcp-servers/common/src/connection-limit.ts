// How many TCP connections one client may hold open at once on a shared server (the session gateway, the MCP
// servers). Every session reaches these services from a network of its own, so a client is a remote address; without
// a bound, one session could open thousands of idle (or slowly dribbled) connections and take the service's file
// descriptors and memory from every other session.
//
// Over the cap, a new connection is reset at once (TCP RST), before anything reads from it or writes to it: no
// parser, no buffer, no answer a client that never reads could hold up, and the same for HTTP/1.1 and HTTP/2 (gRPC),
// where a 503 would not even be the protocol spoken. A well-behaved client never gets there: Claude Code holds a few
// keep-alive connections per service, far below the cap; a reset is what any HTTP client retries. Each refusal is
// counted; the log has the first per address and interval, then a count (repeat-log.ts).
// The count is per remote address across every server the limit is attached to (the gateway's HTTP and gRPC ports
// share one), and `total` is each server's maxConnections: Node itself drops connections past it, before they
// reach JavaScript (counted and logged here from the server's 'drop' event), a backstop against many sessions
// acting together.
import type { Server, Socket } from 'node:net';
import { repeatLog } from './repeat-log.ts';

export interface ConnectionLimitOptions {
  /** Connections one remote address may hold open at once, all attached servers together. */
  perClient: number;
  /** Connections one attached server holds at most, all clients together (its maxConnections). */
  total: number;
  /** The settings that hold the two bounds, named in log lines (e.g. GATEWAY_MAX_CONNECTIONS_PER_CLIENT). */
  settings: { perClient: string; total: string };
  /** Who is speaking, at the start of each log line (e.g. `session-gateway`; none when the log names it). */
  service?: string;
  log: (line: string) => void;
  /** Refusals of one address: the first logged, the rest counted per interval (default 60 s). */
  logIntervalMs?: number;
}

export interface ConnectionLimit {
  /** Applies the limit to a server's new connections (prepended: before its own handler sees the socket). */
  attach(server: Server): void;
  /** Connections `address` holds open now. */
  open(address: string): number;
  /** Remote addresses holding a connection now. */
  readonly clients: number;
  /** Connections reset because their address held `perClient` already. */
  readonly refused: number;
  /** Connections a server dropped at `total`. */
  readonly dropped: number;
  /** Logs the pending summaries and stops the timers. */
  close(): void;
}

/** At most this many addresses are logged by name per interval; the rest share one summary (a bounded log). */
const NAMED_ADDRESSES_PER_INTERVAL = 64;

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
const clientOf = (address: string) => (address.startsWith('::ffff:') ? address.slice(7) : address);

export function connectionLimit(o: ConnectionLimitOptions): ConnectionLimit {
  for (const [key, v] of [
    ['perClient', o.perClient],
    ['total', o.total],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${o.settings[key]} must be a positive integer, not ${v}`);
  const interval = o.logIntervalMs ?? 60_000;
  const who = o.service ? `${o.service}: ` : '';
  const lines = repeatLog(o.log, interval);
  const held = new Map<string, number>();
  let refused = 0;
  let dropped = 0;
  // The addresses named in the log this interval: the repeat log's kinds stay a bounded set.
  let named = new Set<string>();
  const forget = setInterval(() => {
    named = new Set();
  }, interval);
  forget.unref?.();

  const refuse = (socket: Socket, client: string) => {
    refused++;
    if (named.size < NAMED_ADDRESSES_PER_INTERVAL) named.add(client);
    const kind = named.has(client) ? `connections of ${client}` : 'connections of other addresses';
    lines.note(
      kind,
      `${who}refused a connection from ${client}: it holds ${o.perClient} open already, the most one client may (${o.settings.perClient})`,
    );
    // Nothing of it is read or written; an error on the way out (a peer already gone) is of no interest.
    socket.on('error', () => {});
    socket.resetAndDestroy();
  };

  const onConnection = (socket: Socket) => {
    const address = socket.remoteAddress;
    // No address: the peer is gone already.
    if (address === undefined) {
      socket.destroy();
      return;
    }
    const client = clientOf(address);
    const n = held.get(client) ?? 0;
    if (n >= o.perClient) return refuse(socket, client);
    held.set(client, n + 1);
    socket.once('close', () => {
      const left = (held.get(client) ?? 1) - 1;
      if (left > 0) held.set(client, left);
      else held.delete(client);
    });
  };

  const onDrop = (d?: { remoteAddress?: string }) => {
    dropped++;
    lines.note(
      'connections past the total',
      `${who}dropped a connection from ${d?.remoteAddress ? clientOf(d.remoteAddress) : 'an unknown address'}: the server holds ${o.total} already, the most it may (${o.settings.total})`,
    );
  };

  return {
    attach(server) {
      server.maxConnections = o.total;
      server.prependListener('connection', onConnection);
      server.on('drop', onDrop);
    },
    open: (address) => held.get(clientOf(address)) ?? 0,
    get clients() {
      return held.size;
    },
    get refused() {
      return refused;
    },
    get dropped() {
      return dropped;
    },
    close() {
      clearInterval(forget);
      lines.close();
    },
  };
}
