import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../src/http/session/serial-queue.js';

describe('SerialQueue', () => {
  it('runs operations one after another in the order asked; a failure rejects only its own promise', async () => {
    const queue = new SerialQueue();
    const order: string[] = [];
    const slow = queue.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('slow');
      return 1;
    });
    const failing = queue.run(async () => {
      order.push('failing');
      throw new Error('no');
    });
    const fast = queue.run(async () => {
      order.push('fast');
      return 3;
    });
    expect(await slow).toBe(1);
    await expect(failing).rejects.toThrow('no');
    expect(await fast).toBe(3);
    expect(order).toEqual(['slow', 'failing', 'fast']);
  });

  it('is idle only once every operation asked for has settled, already when a caller that awaited one resumes', async () => {
    const queue = new SerialQueue();
    expect(queue.idle).toBe(true);
    const first = queue.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const failing = queue.run(() => Promise.reject(new Error('no')));
    expect(queue.idle).toBe(false);
    await first;
    expect(queue.idle).toBe(false);
    await expect(failing).rejects.toThrow('no');
    expect(queue.idle).toBe(true);
  });
});
