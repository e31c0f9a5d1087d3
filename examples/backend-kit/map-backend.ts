import { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions } from 'sessionkit/backend-kit';
import type { CompareAndSetResult, GetResult } from 'sessionkit';

interface Stored {
  value: string | null;
  expiresAtMs: number;
}

/**
 * A backend written on BaseBackend: sessions in a Map, expiry by the wall
 * clock. BaseBackend has already checked every argument, so each method
 * gets a well-formed key, a storable value and a whole expiry in seconds.
 */
export class MapBackend extends BaseBackend {
  readonly #sessions = new Map<string, Stored>();

  constructor(options: BackendOptions = {}) {
    super(options);
  }

  protected async storeGenerate(key: string, value: string | null, expirySeconds: number): Promise<void> {
    // A session created already expired is already gone: storing it would only leak memory.
    if (expirySeconds > 0) this.#sessions.set(key, { value, expiresAtMs: Date.now() + expirySeconds * 1000 });
  }

  protected async storeGet(key: string): Promise<GetResult> {
    const stored = this.#live(key);
    if (stored === undefined) return NOT_FOUND;
    if (stored.value === null) return NOT_SET;
    return { ok: true, value: stored.value, period: Math.max(0, Math.round((stored.expiresAtMs - Date.now()) / 1000)) };
  }

  protected async storeSet(key: string, value: string, expirySeconds: number): Promise<void> {
    // set never creates a session: a key this store did not generate stays absent.
    if (this.#live(key) !== undefined) this.#write(key, value, expirySeconds);
  }

  protected async storeCompareAndSet(key: string, expected: string | null, value: string, expirySeconds: number): Promise<CompareAndSetResult> {
    const stored = this.#live(key);
    if (stored === undefined) return 'NotFound';
    if (stored.value !== expected) return 'conflict';
    this.#write(key, value, expirySeconds);
    return 'ok';
  }

  protected async storePut(key: string, value: string, expirySeconds: number): Promise<void> {
    // The one write that may create: a key made elsewhere (express-session's sid) becomes a session.
    this.#write(key, value, expirySeconds);
  }

  protected async storeClear(key: string): Promise<void> {
    this.#sessions.delete(key);
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }

  #live(key: string): Stored | undefined {
    const stored = this.#sessions.get(key);
    if (stored === undefined || stored.expiresAtMs > Date.now()) return stored;
    this.#sessions.delete(key);
    return undefined;
  }

  #write(key: string, value: string, expirySeconds: number): void {
    if (expirySeconds <= 0) this.#sessions.delete(key);
    else this.#sessions.set(key, { value, expiresAtMs: Date.now() + expirySeconds * 1000 });
  }
}
