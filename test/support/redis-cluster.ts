import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { rawCommand, RedisServer } from './redis-server.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'slave';
  failed: boolean;
  masterId: string | undefined;
  /** Slot ranges served, inclusive: [first, last]. */
  slots: [number, number][];
}

/**
 * A real Redis Cluster on loopback for tests: six `redis-server` processes
 * (three masters, three replicas), each in its own temporary directory,
 * without persistence, joined with `redis-cli --cluster create`.
 */
export class RedisTestCluster {
  readonly servers: RedisServer[];
  readonly nodeTimeoutMs: number;

  private constructor(servers: RedisServer[], nodeTimeoutMs: number) {
    this.servers = servers;
    this.nodeTimeoutMs = nodeTimeoutMs;
  }

  /** Starts the six nodes, creates the cluster and waits until every node reports `cluster_state:ok`. If anything fails, what was started is stopped. */
  static async start(nodeTimeoutMs = 1000): Promise<RedisTestCluster> {
    const servers: RedisServer[] = [];
    const cluster = new RedisTestCluster(servers, nodeTimeoutMs);
    try {
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs)];
      // Started one after another so that no two pick the same free port.
      for (let i = 0; i < 6; i++) servers.push(await RedisServer.start({ args, clusterBus: true }));
      await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.waitUntilHealthy(servers.map((s) => s.port), 20_000);
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Ports of the nodes, for the ioredis Cluster's start-up list. */
  get ports(): number[] {
    return this.servers.map((s) => s.port);
  }

  /** The nodes as `CLUSTER NODES` on `port` reports them. */
  async nodes(port: number): Promise<ClusterNodeInfo[]> {
    const reply = await rawCommand(port, 'CLUSTER NODES');
    return reply
      .split('\n')
      .slice(1)
      .filter((line) => line.includes('@'))
      .map((line) => {
        const [id = '', address = '', flags = '', masterId = '-', , , , , ...slots] = line.trim().split(' ');
        return {
          id,
          port: Number(address.split('@')[0]?.split(':')[1]),
          role: flags.includes('master') ? 'master' : 'slave',
          failed: /\bfail\b/.test(flags.replaceAll(',', ' ')),
          masterId: masterId === '-' ? undefined : masterId,
          slots: slots
            .filter((s) => !s.startsWith('['))
            .map((s) => {
              const [first, last = first] = s.split('-');
              return [Number(first), Number(last)] as [number, number];
            }),
        };
      });
  }

  /**
   * Polls until every node in `ports` says `cluster_state:ok` and all 16384
   * slots are served by live masters other than `gone` (the id of a node
   * that was killed and whose replica must take over).
   */
  async waitUntilHealthy(ports: number[], timeoutMs: number, gone?: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const states = await Promise.all(ports.map((port) => rawCommand(port, 'CLUSTER INFO')));
        if (states.every((info) => info.includes('cluster_state:ok'))) {
          const nodes = await this.nodes(ports[0] as number);
          const served = nodes.filter((n) => n.role === 'master' && !n.failed && n.id !== gone).flatMap((n) => n.slots).reduce((sum, [a, b]) => sum + b - a + 1, 0);
          if (served === 16_384) return;
        }
      } catch {
        // a node not answering yet
      }
      if (Date.now() > deadline) throw new Error(`cluster not healthy within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** The server of a node by port. */
  server(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`no node on ${port}`);
    return server;
  }

  /** Stops every node and removes their directories; safe to call twice and after a failed start. */
  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }
}

/**
 * A Redis Cluster of the test's own and an ioredis `Cluster` client on it,
 * for one `describe` block: started before its tests (once the client is
 * ready) and stopped after them. Both exist only inside tests.
 */
export function useTestCluster(nodeTimeoutMs = 1000): { readonly cluster: RedisTestCluster; readonly client: Cluster } {
  let cluster: RedisTestCluster | undefined;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await RedisTestCluster.start(nodeTimeoutMs);
    const ready = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    client = ready;
    ready.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ready.once('ready', resolve);
      ready.once('end', () => reject(new Error('cluster client ended')));
    });
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.destroy();
  });
  return {
    get cluster(): RedisTestCluster {
      if (cluster === undefined) throw new Error('useTestCluster: the cluster did not start');
      return cluster;
    },
    get client(): Cluster {
      if (client === undefined) throw new Error('useTestCluster: the client exists only inside tests');
      return client;
    },
  };
}
