import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatchCall, type BatcherOptions, type Scheduler } from '../../src/core/batcher.js';

/** A scheduler the test runs by hand: flushes happen only when it says so. */
function manualScheduler(): { schedule: Scheduler; flush: () => void; readonly scheduled: number } {
  let queued: (() => void)[] = [];
  let scheduled = 0;
  return {
    schedule: (flush) => {
      scheduled++;
      queued.push(flush);
    },
    flush: () => {
      const now = queued;
      queued = [];
      for (const flush of now) flush();
    },
    get scheduled() {
      return scheduled;
    },
  };
}

/** A dispatch that records each batch and answers only when the test settles it. */
function recordingDispatch<Input>() {
  const batches: { inputs: Input[]; call: BatchCall; answer: (outputs: unknown[]) => void; fail: (error: unknown) => void }[] = [];
  const dispatch = (inputs: Input[], call: BatchCall) =>
    new Promise<unknown[]>((answer, fail) => {
      batches.push({ inputs, call, answer, fail });
    });
  return { batches, dispatch };
}

const timeoutError = () => new Error('timed out');
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = <Input>(options: Partial<BatcherOptions<Input>> = {}) => {
    const scheduler = manualScheduler();
    const { batches, dispatch } = recordingDispatch<Input>();
    const batcher = new Batcher<Input, unknown>(dispatch, {
      maxBatchSize: 100,
      maxBatchesInFlight: 2,
      timeoutMs: 1000,
      timeoutError,
      schedule: scheduler.schedule,
      ...options,
    });
    return { batcher, batches, scheduler };
  };

  it('operations submitted before the scheduled flush share one batch, each with its own answer', async () => {
    const { batcher, batches, scheduler } = make<string>();
    const results = ['a', 'b', 'c'].map((input) => batcher.submit(input));
    expect(scheduler.scheduled).toBe(1);
    expect(batches).toHaveLength(0);
    scheduler.flush();
    expect(batches.map((batch) => batch.inputs)).toEqual([['a', 'b', 'c']]);
    batches[0]!.answer(['A', new Error('b failed'), 'C']);
    const settled = await Promise.allSettled(results);
    expect(settled).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('b failed') },
      { status: 'fulfilled', value: 'C' },
    ]);
    // Nothing is left waiting: drain resolves at once.
    await batcher.drain();
  });

  it('a dispatch that rejects rejects every operation of its batch, and no other batch', async () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchSize: 2 });
    const results = [1, 2, 3].map((input) => batcher.submit(input));
    scheduler.flush();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1, 2], [3]]);
    batches[0]!.fail(new Error('connection lost'));
    batches[1]!.answer(['three']);
    expect(await Promise.allSettled(results)).toMatchObject([{ status: 'rejected' }, { status: 'rejected' }, { status: 'fulfilled', value: 'three' }]);
  });

  it('at the in-flight limit, what arrives waits and leaves as one batch when a batch returns', async () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchesInFlight: 1 });
    const first = batcher.submit(1);
    scheduler.flush();
    const waiting = [2, 3, 4].map((input) => batcher.submit(input));
    scheduler.flush();
    expect(batches).toHaveLength(1);
    batches[0]!.answer(['one']);
    await first;
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.answer([2, 3, 4]);
    expect(await Promise.all(waiting)).toEqual([2, 3, 4]);
  });

  it('spreadOverFreeSlots splits the queue evenly over the free in-flight slots', () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchesInFlight: 2, spreadOverFreeSlots: true });
    for (let i = 0; i < 10; i++) void batcher.submit(i);
    scheduler.flush();
    expect(batches.map((batch) => batch.inputs.length)).toEqual([5, 5]);
  });

  it('operations of different partitions never share a batch; each partition keeps its order', () => {
    const { batcher, batches, scheduler } = make<number>({ partitionOf: (n) => n % 3, maxBatchesInFlight: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 9; i++) void batcher.submit(i);
    scheduler.flush();
    expect(batches.map((batch) => batch.inputs)).toEqual([[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
  });

  it('maxBatchChars caps a batch; an operation larger than the cap gets a batch of its own', () => {
    const { batcher, batches, scheduler } = make<string>({ maxBatchChars: 10, charsOf: (s) => s.length, maxBatchesInFlight: 10 });
    for (const input of ['aaaa', 'bbbb', 'cccc', 'x'.repeat(25), 'dd']) void batcher.submit(input);
    scheduler.flush();
    expect(batches.map((batch) => batch.inputs)).toEqual([['aaaa', 'bbbb'], ['cccc'], ['x'.repeat(25)], ['dd']]);
  });

  it('an operation in flight settles at its own deadline; the slot frees once all of its batch expired', async () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchesInFlight: 1, timeoutMs: 1000 });
    const early = batcher.submit(1);
    vi.advanceTimersByTime(400);
    const later = batcher.submit(2);
    scheduler.flush();
    expect(batches[0]!.inputs).toEqual([1, 2]);
    const earlyFailure = expect(early).rejects.toThrow('timed out');
    vi.advanceTimersByTime(600);
    await earlyFailure;
    // The slot is still taken: what arrives now waits.
    const third = batcher.submit(3);
    scheduler.flush();
    expect(batches).toHaveLength(1);
    const laterFailure = expect(later).rejects.toThrow('timed out');
    vi.advanceTimersByTime(400);
    await laterFailure;
    // Every operation of the batch expired: the slot is free and the waiting one leaves.
    expect(batches).toHaveLength(2);
    expect(batches[1]!.inputs).toEqual([3]);
    expect(batches[0]!.call.expired).toBe(2);
    // An answer after every deadline changes nothing.
    batches[0]!.answer(['late', 'late']);
    batches[1]!.answer(['three']);
    expect(await third).toBe('three');
    await batcher.drain();
  });

  it('an operation whose deadline passed while queued is never dispatched', async () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchesInFlight: 1, timeoutMs: 1000 });
    void batcher.submit(1, Number.POSITIVE_INFINITY);
    scheduler.flush();
    const stale = batcher.submit(2);
    const fresh = batcher.submit(3, performance.now() + 5000);
    scheduler.flush();
    const staleFailure = expect(stale).rejects.toThrow('timed out');
    vi.advanceTimersByTime(1500);
    batches[0]!.answer(['one']);
    await staleFailure;
    await settle();
    expect(batches.map((batch) => batch.inputs)).toEqual([[1], [3]]);
    batches[1]!.answer(['three']);
    expect(await fresh).toBe('three');
  });

  it('a dispatch may change the error of operations that expire from then on', async () => {
    const { batcher, batches, scheduler } = make<number>({ timeoutMs: 100 });
    const result = batcher.submit(1);
    scheduler.flush();
    batches[0]!.call.expiryError = () => new Error('unreachable');
    const failure = expect(result).rejects.toThrow('unreachable');
    vi.advanceTimersByTime(100);
    await failure;
  });

  it('drain sends what is queued past the in-flight limit and resolves once all settled', async () => {
    const { batcher, batches, scheduler } = make<number>({ maxBatchesInFlight: 1, maxBatchSize: 1 });
    const results = [1, 2, 3].map((input) => batcher.submit(input));
    let drained = false;
    const draining = batcher.drain().then(() => {
      drained = true;
    });
    expect(batches).toHaveLength(3);
    batches[0]!.answer([1]);
    batches[1]!.answer([2]);
    await settle();
    expect(drained).toBe(false);
    batches[2]!.answer([3]);
    await draining;
    expect(await Promise.all(results)).toEqual([1, 2, 3]);
    expect(scheduler.scheduled).toBe(1);
  });
});
