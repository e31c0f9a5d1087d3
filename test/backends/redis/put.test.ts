import { describe, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { digestKey, generateKey } from '../../../src/index.js';
import { keysWithPrefix, redisSkipReason, useTestRedis } from '../../support/redis-env.js';

describe.skipIf(redisSkipReason !== undefined)(`RedisBackend.put${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const redis = useTestRedis();

  it('stores the session under the digest of the key, never the key, with no owner head', async () => {
    const p = redis.prefix('put');
    const backend = new RedisBackend(redis.client, { prefix: p });
    const owned = await backend.generate({ owner: 'ada', value: 'owned' });
    const foreign = generateKey().slice(0, 32);
    await backend.put(foreign, 'new', { expiry: 100 });
    await backend.put(owned, 'replaced', { expiry: 100 });
    const sessions = (await keysWithPrefix(redis.client, p)).filter((key) => !key.startsWith(`${p}owner:`));
    expect(sessions.sort()).toEqual([`${p}{${digestKey(foreign)}}`, `${p}{${digestKey(owned)}}`].sort());
    expect(await redis.client.get(backend.redisKey(owned))).toMatch(/^\d+:[\w-]+=replaced$/);
    expect(await redis.client.get(backend.redisKey(foreign))).toMatch(/^\d+:[\w-]+=new$/);
    await backend.close();
  });
});
