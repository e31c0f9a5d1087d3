import { describe, expect, it } from 'vitest';
import { assertArguments, BATCH_SCRIPT, BATCH_SCRIPT_SHA, OP, OPERATIONS, type OpCode } from '../../../src/backends/redis/batch-script.js';
import { redisSkipReason, useTestRedis } from '../../support/redis-env.js';

const codes = Object.values(OP) as string[];

/** A value each argument name can take in a batch on fresh keys. */
const SAMPLE: Record<string, string> = {
  value: '=v',
  expiry: '100',
  token: 'sampletoken',
  tag: 'sampletag',
  expected: '',
  member: 'm',
  ttl: '60000',
  pendingMs: '60000',
  readAt: '0',
  afterScore: '',
  afterMember: '',
  cap: '',
  count: '2',
};

/** Arguments for `name` as OPERATIONS declares them (a variadic one gets the two extra its count says). */
function sampleArguments(name: keyof typeof OPERATIONS): string[] {
  const op = OPERATIONS[name];
  const args = op.args.map((arg) => {
    const sample = SAMPLE[arg];
    if (sample === undefined) throw new Error(`no sample for argument ${arg} of ${name}`);
    return sample;
  });
  return 'variadic' in op ? [...args, 'm1', 'm2'] : args;
}

describe('the batch script and its operation table', () => {
  it('every operation has its own one-character code', () => {
    for (const code of codes) expect(code).toHaveLength(1);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('the Lua branches on exactly the codes of OP, no more, no fewer', () => {
    const handled = new Set([...BATCH_SCRIPT.matchAll(/op == (\d+)/g)].map((match) => String.fromCharCode(Number(match[1]))));
    expect([...handled].sort()).toEqual([...codes].sort());
  });

  it('an operation queued with more or fewer arguments than OPERATIONS declares is refused before anything is sent', () => {
    for (const name of Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[]) {
      const code = OP[name] as OpCode;
      const args = sampleArguments(name);
      expect(() => assertArguments(code, args)).not.toThrow();
      expect(() => assertArguments(code, [...args, 'extra'])).toThrow(/takes \d+ arguments/);
      if (args.length > 0) expect(() => assertArguments(code, args.slice(0, -1))).toThrow(/takes \d+ arguments/);
    }
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

    it('each operation reads exactly the arguments OPERATIONS declares: a miscount would shift every later operation of the batch, so a probe after each one must store its own arguments', async () => {
      const p = redis.prefix('arity');
      const names = Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[];
      // One batch: every operation, each followed by a generate of a probe key with a value naming it.
      const keys: string[] = [];
      let ops = '';
      const args: string[] = [];
      for (const name of names) {
        keys.push(`${p}{${name}}`, `${p}{probe-${name}}`);
        ops += OP[name] + OP.generate;
        args.push(...sampleArguments(name), `=after-${name}`, '100', `probe${names.indexOf(name)}`);
      }
      const reply = (await redis.client.evalsha(BATCH_SCRIPT_SHA, keys.length, ...keys, ops, '', ...args)) as unknown[];
      expect(reply).toHaveLength(keys.length + 1);
      for (const [i, name] of names.entries()) {
        expect(reply[2 + 2 * i], `the probe after ${name}`).not.toBeInstanceOf(Error);
        expect(await redis.client.get(`${p}{probe-${name}}`), `the probe after ${name}`).toMatch(new RegExp(`^\\d+:probe${i}=after-${name}$`));
      }
    });

    it('a batch whose arguments do not add up to what its operations declare runs nothing', async () => {
      const p = redis.prefix('arity-refused');
      for (const extra of [[], ['one too many', 'x', 'y', 'z']]) {
        const short = [OP.generate, '', '=v', '100'];
        await expect(redis.client.evalsha(BATCH_SCRIPT_SHA, 2, `${p}{a}`, `${p}{b}`, OP.clear + short[0], short[1]!, ...short.slice(2), ...extra)).rejects.toThrow(/do not match/);
      }
      expect(await redis.client.exists(`${p}{a}`, `${p}{b}`)).toBe(0);
    });
  });
});
