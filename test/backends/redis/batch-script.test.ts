import { describe, expect, it } from 'vitest';
import { BATCH_SCRIPT, BATCH_SCRIPT_SHA, OP } from '../../../src/backends/redis/batch-script.js';
import { redisSkipReason, useTestRedis } from '../../support/redis-env.js';

const codes = Object.values(OP) as string[];

describe('the batch script and its operation table', () => {
  it('every operation has its own one-character code', () => {
    for (const code of codes) expect(code).toHaveLength(1);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('the Lua branches on exactly the codes of OP, no more, no fewer', () => {
    const handled = new Set([...BATCH_SCRIPT.matchAll(/op == (\d+)/g)].map((match) => String.fromCharCode(Number(match[1]))));
    expect([...handled].sort()).toEqual([...codes].sort());
  });

  describe.skipIf(redisSkipReason !== undefined)(`on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
    const redis = useTestRedis();

    it('the script Redis runs is the one named by BATCH_SCRIPT_SHA, and an unknown code is an error reply', async () => {
      const key = `${redis.prefix('script')}{k}`;
      expect(await redis.client.script('LOAD', BATCH_SCRIPT)).toBe(BATCH_SCRIPT_SHA);
      await expect(redis.client.evalsha(BATCH_SCRIPT_SHA, 1, key, 'Z', '')).rejects.toThrow(/unknown operation/);
      const reply = (await redis.client.evalsha(BATCH_SCRIPT_SHA, 1, key, OP.get, '')) as unknown[];
      expect(reply).toHaveLength(2);
      expect(reply[1]).toBeNull();
    });
  });
});
