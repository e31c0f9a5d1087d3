import type { Cluster, Redis } from 'ioredis';
import { BackendError } from '../../core/errors.js';
import { hasShape } from '../../core/validate.js';
import type { NodeRedisClient, RedisClient } from './client.js';
import { toBackendError } from './errors.js';

/** Sends one command to one Redis node (a master of a Cluster, or the one server) and resolves to its reply. */
export type NodeCommand = (args: readonly string[]) => Promise<unknown>;

/** Keys asked of SCAN per call: a hint to Redis, which bounds the work of each call. */
const SCAN_COUNT = '1000';

/** What node-redis adds for a cluster: its masters, and a client per node. */
interface NodeRedisCluster {
  readonly masters: readonly unknown[];
  nodeClient(node: unknown): Promise<{ sendCommand(args: string[]): Promise<unknown> }> | { sendCommand(args: string[]): Promise<unknown> };
}

/**
 * A command sender for each node that holds keys: every master of a Cluster
 * (SCAN sees only the keys of the node it runs on), or the one server.
 */
export async function masterNodes(client: RedisClient): Promise<NodeCommand[]> {
  if (hasShape(client, { masters: 'object' })) {
    const cluster = client as unknown as NodeRedisCluster;
    const nodes = await Promise.all(cluster.masters.map((master) => cluster.nodeClient(master)));
    return nodes.map((node) => (args) => node.sendCommand([...args]));
  }
  if (!hasShape(client, { call: 'function' })) {
    const single = client as NodeRedisClient & { sendCommand(args: string[]): Promise<unknown> };
    return [(args) => single.sendCommand([...args])];
  }
  const ioredis = client as Redis | Cluster;
  const nodes: Redis[] = ioredis.isCluster ? (ioredis as Cluster).nodes('master') : [ioredis as Redis];
  return nodes.map((node) => (args) => node.call(args[0] as string, ...args.slice(1)));
}

/** `text` as a SCAN MATCH pattern that matches only itself: glob characters escaped. */
export function literalPattern(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Runs `command` on `node`, as a {@link BackendError} on failure or after `timeoutMs`. */
export async function sendWithin(node: NodeCommand, args: readonly string[], timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendError('timeout', `Redis did not answer ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([node(args).catch((error: unknown) => Promise.reject(toBackendError(error))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The keys of `node` that match `pattern` (and, given `type`, hold that
 * type: `string` leaves out sets and hashes under a session prefix), one
 * SCAN reply at a time. SCAN may return a key twice (while Redis rehashes),
 * so callers that count dedupe; keys that expired are not returned.
 */
export async function* scanKeys(node: NodeCommand, pattern: string, timeoutMs: number, type?: 'string'): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const reply = await sendWithin(node, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT, ...(type === undefined ? [] : ['TYPE', type])], timeoutMs);
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new BackendError('query_failed', 'Redis answered SCAN with an unexpected reply');
    cursor = String(reply[0]);
    const keys = (reply[1] as unknown[]).map(String);
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Redis's clock on `node`, in milliseconds since the epoch (sessions' expiry instants are on it). */
export async function serverNowMs(node: NodeCommand, timeoutMs: number): Promise<number> {
  const reply = await sendWithin(node, ['TIME'], timeoutMs);
  if (!Array.isArray(reply) || reply.length !== 2) throw new BackendError('query_failed', 'Redis answered TIME with an unexpected reply');
  return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
}
