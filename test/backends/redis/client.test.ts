import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { toScriptClient } from '../../../src/backends/redis/client.js';
import { REDIS_URL, redisSkipReason } from '../../support/redis-env.js';

describe.skipIf(redisSkipReason !== undefined)('the Redis script client: a lost connection', () => {
  it('ioredis without resend: each listener hears the next close once, and one unsubscribed first never does', async () => {
    const client = new Redis(REDIS_URL, { autoResendUnfulfilledCommands: false, lazyConnect: true });
    await client.connect();
    const scriptClient = toScriptClient(client);
    const heard: string[] = [];
    const unsubscribe = scriptClient.onConnectionLost!(() => heard.push('left'));
    scriptClient.onConnectionLost!(() => heard.push('kept'));
    unsubscribe();
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.disconnect(true);
    await closed;
    expect(heard).toEqual(['kept']);
    // Heard once: a listener of the last close does not hear the next one.
    await new Promise((resolve) => client.once('ready', resolve));
    const closedAgain = new Promise((resolve) => client.once('close', resolve));
    client.disconnect();
    await closedAgain;
    expect(heard).toEqual(['kept']);
  });

  it('ioredis resending by default settles what was in flight itself: no close listener', () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    expect(toScriptClient(client).onConnectionLost).toBeUndefined();
    client.disconnect();
  });
});
