import type { Cluster, Redis } from 'ioredis';
import { hasShape } from '../../core/validate.js';

/**
 * What {@link RedisBackend} accepts, created and owned by the caller: an
 * ioredis `Redis` or `Cluster`, or a node-redis (`redis` v5 and later) client
 * from `createClient()` or `createCluster()`, already connected.
 */
export type RedisClient = Redis | Cluster | NodeRedisClient;

/**
 * What the backend uses of a node-redis client or cluster (`redis` v5+), by
 * shape: node-redis's own types vary with the modules, functions and scripts
 * a client was made with, and the backend sends only EVALSHA, EVAL and GET.
 */
export interface NodeRedisClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  get(key: string): Promise<unknown>;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** The connection as the backend sees it: able to take commands, opening (worth waiting for), or down (fail at once). */
export type ConnectionState = { kind: 'ready' } | { kind: 'connecting' } | { kind: 'down'; status: string };

/**
 * The few commands the backend sends, the same over both client libraries.
 * Script replies keep each operation's error reply in its slot (as an `Error`).
 */
export interface ScriptClient {
  /** True for a Cluster: operations are grouped by hash slot. */
  readonly isCluster: boolean;
  state(): ConnectionState;
  /** Calls `listener` once, when a connection being opened is ready. */
  onceReady(listener: () => void): void;
  offReady(listener: () => void): void;
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /**
   * Destroys the connection that serves `slot` (the one connection of a
   * single node), so that the client opens a new one: the answer to a
   * connection silent past a deadline, which no FIN may ever end (a black
   * hole). ioredis only; node-redis keeps its socket to itself (set its
   * `socket.socketTimeout`, at most half of `timeoutMs`: see docs/redis.md).
   */
  dropConnection(slot: number): void;
  /**
   * Calls the listener once, when a connection of the client next closes, and
   * returns what unsubscribes it; undefined when the client itself settles
   * what was in flight then (ioredis resends it by default, node-redis rejects
   * it). ioredis made with `autoResendUnfulfilledCommands: false` does neither:
   * its commands in flight never settle, so the backend must learn of the close.
   */
  readonly onConnectionLost: ((listener: () => void) => () => void) | undefined;
}

// Statuses in which ioredis is opening a connection: worth waiting for 'ready'.
const IOREDIS_CONNECTING = new Set(['connecting', 'connect']);

/**
 * The {@link ScriptClient} over `client`; a `TypeError` (at setup) when it is
 * neither an ioredis nor a node-redis client.
 */
export function toScriptClient(client: unknown): ScriptClient {
  if (isIoredis(client)) return ioredisScriptClient(client);
  if (isNodeRedis(client)) return nodeRedisScriptClient(client);
  throw new TypeError('RedisBackend needs an ioredis Redis or Cluster client, or a node-redis client or cluster (redis v5+)');
}

function isIoredis(client: unknown): client is Redis | Cluster {
  return hasShape(client, { evalsha: 'function', eval: 'function', once: 'function', removeListener: 'function', status: 'string' });
}

function isNodeRedis(client: unknown): client is NodeRedisClient {
  return hasShape(client, { evalSha: 'function', eval: 'function', once: 'function', off: 'function', isReady: 'boolean', isOpen: 'boolean' });
}

function ioredisScriptClient(client: Redis | Cluster): ScriptClient {
  const options = client.isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  return {
    onConnectionLost: options?.autoResendUnfulfilledCommands === false ? closeListeners(client) : undefined,
    isCluster: client.isCluster === true,
    state: () => {
      const status = client.status;
      // 'wait' is a lazyConnect client: the first command opens the connection.
      if (status === 'ready' || status === 'wait') return READY;
      if (IOREDIS_CONNECTING.has(status)) return CONNECTING;
      return { kind: 'down', status };
    },
    onceReady: (listener) => void client.once('ready', listener),
    offReady: (listener) => void client.removeListener('ready', listener),
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    get: (key) => client.get(key),
    dropConnection: (slot) => {
      const node = client.isCluster ? nodeServing(client as Cluster, slot) : (client as Redis);
      // ioredis reconnects by its retryStrategy when its stream closes.
      node?.stream?.destroy();
    },
  };
}

function nodeRedisScriptClient(client: NodeRedisClient): ScriptClient {
  return {
    // A cluster routes a script call by its first key: every key of a batch is in one slot.
    isCluster: hasShape(client, { masters: 'object' }),
    state: () => {
      if (client.isReady) return READY;
      // Open but not ready: connecting or reconnecting (node-redis queues meanwhile).
      if (client.isOpen) return CONNECTING;
      return { kind: 'down', status: 'closed' };
    },
    onceReady: (listener) => void client.once('ready', listener),
    offReady: (listener) => void client.off('ready', listener),
    evalsha: (sha, keys, args) => client.evalSha(sha, { keys, arguments: args }),
    eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
    get: (key) => client.get(key) as Promise<string | null>,
    dropConnection: () => undefined,
    onConnectionLost: undefined,
  };
}

/**
 * Subscribes listeners to the next close of a connection of `client` (any
 * node of a Cluster). A listener leaves when it is called or unsubscribed, so
 * the many batches answered between two closes leave nothing behind.
 */
function closeListeners(client: Redis | Cluster): (listener: () => void) => () => void {
  const listeners = new Set<() => void>();
  const onClose = () => {
    const called = [...listeners];
    listeners.clear();
    for (const listener of called) listener();
  };
  if (client.isCluster) {
    const cluster = client as Cluster;
    for (const node of cluster.nodes('all')) node.on('close', onClose);
    cluster.on('+node', (node: Redis) => node.on('close', onClose));
  } else {
    client.on('close', onClose);
  }
  return (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
}

/** The master of a Cluster that serves `slot`, as the client's slot table says (undefined before it has one). */
function nodeServing(cluster: Cluster, slot: number): Redis | undefined {
  const address = cluster.slots[slot]?.[0];
  if (address === undefined) return undefined;
  return cluster.nodes('all').find((node) => `${node.options.host}:${node.options.port}` === address);
}

const READY: ConnectionState = { kind: 'ready' };
const CONNECTING: ConnectionState = { kind: 'connecting' };
