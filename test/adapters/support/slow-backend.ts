import type { Backend, CompareAndSetResult, GenerateOptions, GetResult, SetOptions } from '../../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A real backend whose writes take `delayMs` longer, as a store under load
 * or stalled does: reads are as fast as the store underneath, every write
 * (`generate`, `set`, `compareAndSet`, `put`, `clear`) waits first. The data
 * lives in the real backend.
 */
export class SlowBackend implements Backend {
  readonly inner: Backend;
  delayMs: number;

  constructor(inner: Backend, delayMs: number) {
    this.inner = inner;
    this.delayMs = delayMs;
  }

  get maxValueBytes(): number | undefined {
    return (this.inner as { maxValueBytes?: number }).maxValueBytes;
  }

  async #slow(): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
  }

  defaultPeriod(): number {
    return this.inner.defaultPeriod();
  }
  setDefaultPeriod(periodSeconds: number): void {
    this.inner.setDefaultPeriod(periodSeconds);
  }
  async generate(options?: GenerateOptions): Promise<string> {
    await this.#slow();
    return this.inner.generate(options);
  }
  get(key: string): Promise<GetResult> {
    return this.inner.get(key);
  }
  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    await this.#slow();
    return this.inner.set(key, value, options);
  }
  async compareAndSet(key: string, expected: string | null, value: string, options?: SetOptions): Promise<CompareAndSetResult> {
    await this.#slow();
    return this.inner.compareAndSet(key, expected, value, options);
  }
  async put(key: string, value: string, options?: SetOptions): Promise<void> {
    await this.#slow();
    return this.inner.put(key, value, options);
  }
  async clear(key: string): Promise<void> {
    await this.#slow();
    return this.inner.clear(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
