import fc from 'fast-check';
import { expect, it } from 'vitest';
import { generateKey, type Backend, type GetResult } from '../../src/index.js';
import { secondsOfSlack, stopwatch } from '../support/elapsed.js';

/** What the contract says a backend holds: per key, its value (null: not set) and the model time it expires. */
interface Model {
  nowSeconds: number;
  sessions: Map<string, { value: string | null; expiresAt: number }>;
  keys: string[];
}

interface Real {
  backend: Backend;
  /** Moves the backend's clock; undefined when the backend's clock cannot be controlled. */
  advance: ((seconds: number) => void) | undefined;
}

/** A backend under test, with the time since its run started (real clocks move while the test runs). */
interface RunningReal extends Real {
  elapsedSeconds: () => number;
}

type Command = fc.AsyncCommand<Model, RunningReal>;

/**
 * The expiry sent to the backend. On a real clock a short expiry would run
 * out whenever the machine stalls the test, so positive expiries are minutes
 * there instead of seconds; the model only ever sees what was sent.
 */
const sentExpiry = (real: Real, expiry: number | undefined) => (expiry === undefined || expiry <= 0 || real.advance !== undefined ? expiry : expiry * 60);

/** Whole seconds the backend's clock may be ahead of the model's: none when the test moves the clock. */
const allowedDriftSeconds = (real: RunningReal) => (real.advance !== undefined ? 0 : secondsOfSlack(real.elapsedSeconds));

const expected = (model: Model, key: string): GetResult => {
  const session = model.sessions.get(key);
  if (session === undefined || session.expiresAt <= model.nowSeconds) return { ok: false, error: 'NotFound' };
  return session.value === null ? { ok: false, error: 'NotSet' } : { ok: true, value: session.value, period: session.expiresAt - model.nowSeconds };
};
const isLive = (model: Model, key: string) => expected(model, key).ok || (expected(model, key) as { error: string }).error === 'NotSet';

const valueArb = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'ünïcödé 🌍', '{"a":1}'));
const expiryArb = fc.constantFrom(undefined, -3, 0, 1, 5, 30);
const pick = (model: Model, index: number) => (model.keys.length === 0 ? generateKey() : model.keys[index % model.keys.length]!);

class Generate implements Command {
  constructor(readonly value: string | undefined, readonly expiry: number | undefined) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    const sent = sentExpiry(real, this.expiry);
    const key = await real.backend.generate({ value: this.value, expiry: sent });
    const expiry = sent ?? real.backend.defaultPeriod();
    model.keys.push(key);
    if (expiry > 0) model.sessions.set(key, { value: this.value ?? null, expiresAt: model.nowSeconds + expiry });
  }
  toString = () => `generate(${JSON.stringify(this.value)}, ${this.expiry})`;
}

class Get implements Command {
  constructor(readonly index: number) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    const key = pick(model, this.index);
    const actual = await real.backend.get(key);
    const wanted = expected(model, key);
    if (wanted.ok && actual.ok) {
      expect(actual.value).toBe(wanted.value);
      expect(actual.period).toBeLessThanOrEqual(wanted.period);
      expect(actual.period).toBeGreaterThanOrEqual(wanted.period - allowedDriftSeconds(real));
    } else {
      expect(actual).toEqual(wanted);
    }
  }
  toString = () => `get(#${this.index})`;
}

class SetValue implements Command {
  constructor(readonly index: number, readonly value: string, readonly expiry: number | undefined) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    const key = pick(model, this.index);
    const sent = sentExpiry(real, this.expiry);
    await real.backend.set(key, this.value, { expiry: sent });
    if (isLive(model, key)) {
      const expiry = sent ?? real.backend.defaultPeriod();
      if (expiry > 0) model.sessions.set(key, { value: this.value, expiresAt: model.nowSeconds + expiry });
      else model.sessions.delete(key);
    }
  }
  toString = () => `set(#${this.index}, ${JSON.stringify(this.value)}, ${this.expiry})`;
}

class Clear implements Command {
  constructor(readonly index: number) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    const key = pick(model, this.index);
    await real.backend.clear(key);
    model.sessions.delete(key);
  }
  toString = () => `clear(#${this.index})`;
}

class CompareAndSet implements Command {
  constructor(readonly index: number, readonly guessCurrent: boolean, readonly value: string) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    const key = pick(model, this.index);
    const current = model.sessions.get(key);
    const expectedValue = this.guessCurrent ? (current?.value ?? null) : 'surely not the value';
    const answer = await real.backend.compareAndSet(key, expectedValue, this.value);
    if (!isLive(model, key)) return expect(answer).toBe('NotFound');
    if (current!.value !== expectedValue) return expect(answer).toBe('conflict');
    expect(answer).toBe('ok');
    model.sessions.set(key, { value: this.value, expiresAt: model.nowSeconds + real.backend.defaultPeriod() });
  }
  toString = () => `compareAndSet(#${this.index}, ${this.guessCurrent ? 'current' : 'wrong'}, ${JSON.stringify(this.value)})`;
}

class Advance implements Command {
  constructor(readonly seconds: number) {}
  check = () => true;
  async run(model: Model, real: RunningReal) {
    if (real.advance === undefined) return;
    real.advance(this.seconds);
    model.nowSeconds += this.seconds;
  }
  toString = () => `advance(${this.seconds} s)`;
}

const commands = [
  fc.tuple(fc.option(valueArb, { nil: undefined }), expiryArb).map(([value, expiry]) => new Generate(value, expiry)),
  fc.nat().map((index) => new Get(index)),
  fc.tuple(fc.nat(), valueArb, expiryArb).map(([index, value, expiry]) => new SetValue(index, value, expiry)),
  fc.nat().map((index) => new Clear(index)),
  fc.tuple(fc.nat(), fc.boolean(), valueArb).map(([index, guess, value]) => new CompareAndSet(index, guess, value)),
  fc.integer({ min: 1, max: 40 }).map((seconds) => new Advance(seconds)),
];

/**
 * Model-based property: random sequences of generate, get, set, clear,
 * compare-and-set and time passing give the answers a simple model of
 * the backend contract (src/core/contract.ts) gives. `create` returns a backend and, where possible, a way
 * to move its clock.
 */
export function itFollowsTheModel(name: string, create: () => Promise<Real>, runs = 40): void {
  it(`${name}: random operation sequences agree with the model of the contract`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), async (sequence) => {
        const real: RunningReal = { ...(await create()), elapsedSeconds: stopwatch() };
        try {
          await fc.asyncModelRun(() => ({ model: { nowSeconds: 0, sessions: new Map(), keys: [] }, real }), sequence);
        } finally {
          await real.backend.close();
        }
      }),
      { numRuns: runs },
    );
  }, 120_000);
}
