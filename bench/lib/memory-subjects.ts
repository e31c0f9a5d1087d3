// The in-memory stores the memory benchmark compares, reduced to the same
// few operations, each delivering what an app uses: the session object.
import { randomBytes } from 'node:crypto';
import session from 'express-session';
import type { SessionData, Store } from 'express-session';
import memorystore from 'memorystore';
import { MemoryBackend } from '../../src/index.js';

/** One store under test. */
export interface MemorySubject {
  library: string;
  /** Creates a session holding `value` (an object) and resolves to its key. */
  create(value: object): Promise<string>;
  /** Reads the session back as an object; rejects when it is missing. */
  get(key: string): Promise<object>;
  /** Replaces the session's value. */
  set(key: string, value: object): Promise<void>;
  close(): Promise<void>;
}

const ONE_WEEK_MS = 604_800_000;
const expires = new Date(Date.now() + ONE_WEEK_MS).toISOString();

/**
 * A session value whose JSON is `bytes` long and unique to `i` (stores must
 * keep a string of their own per session, as with real data): an
 * express-session cookie and padding.
 */
export function sessionValue(i: number, bytes = 100): object {
  const base = { cookie: { originalMaxAge: ONE_WEEK_MS, expires }, p: '' };
  const room = bytes - JSON.stringify(base).length;
  const tag = String(i);
  return { ...base, p: 'x'.repeat(Math.max(0, room - tag.length)) + tag };
}

// express-session names sessions with uid-safe's 24 random bytes as base64url (32 characters).
const newSid = () => randomBytes(24).toString('base64url');

/** sessionkit's MemoryBackend; `json` says whether the value is (de)serialised as an app would (the fair comparison) or passed as a ready string. */
export function sessionkitSubject(options: { maxSessions?: number; json?: boolean } = {}): MemorySubject {
  const { maxSessions = 10_000_000, json = true } = options;
  const backend = new MemoryBackend({ maxSessions });
  const cache = new WeakMap<object, string>();
  // Without JSON, the string is computed once per value object, outside the timed operation.
  const encode = json ? (value: object) => JSON.stringify(value) : (value: object) => cache.get(value) ?? (cache.set(value, JSON.stringify(value)), cache.get(value)!);
  return {
    library: json ? 'sessionkit MemoryBackend' : 'sessionkit MemoryBackend (string in/out)',
    create: (value) => backend.generate({ value: encode(value) }),
    async get(key) {
      const result = await backend.get(key);
      if (!result.ok) throw new Error(`sessionkit: ${result.error}`);
      return json ? (JSON.parse(result.value) as object) : (result as object);
    },
    set: (key, value) => backend.set(key, encode(value)),
    close: () => backend.close(),
  };
}

function expressStoreSubject(library: string, store: Store, close: () => void): MemorySubject {
  return {
    library,
    create(value) {
      const sid = newSid();
      return new Promise((resolve, reject) => store.set(sid, value as SessionData, (error) => (error ? reject(error) : resolve(sid))));
    },
    get(sid) {
      return new Promise((resolve, reject) =>
        store.get(sid, (error, sess) => (error ? reject(error) : sess ? resolve(sess) : reject(new Error(`${library}: no session`)))),
      );
    },
    set(sid, value) {
      return new Promise((resolve, reject) => store.set(sid, value as SessionData, (error) => (error ? reject(error) : resolve())));
    },
    async close() {
      close();
    },
  };
}

/** express-session's own MemoryStore (unbounded, swept on read). */
export function expressMemoryStoreSubject(): MemorySubject {
  return expressStoreSubject('express-session MemoryStore', new session.MemoryStore(), () => {});
}

/** The `memorystore` package (an LRU of `max` sessions, pruned every `checkPeriod`). */
export function memorystoreSubject(options: { max?: number } = {}): MemorySubject {
  const MemoryStore = memorystore(session);
  const store = new MemoryStore({ checkPeriod: 60_000, ...(options.max === undefined ? {} : { max: options.max }) });
  return expressStoreSubject('memorystore', store, () => (store as unknown as { stopInterval(): void }).stopInterval());
}

export const subjectFactories: Record<string, (options: { maxSessions?: number }) => MemorySubject> = {
  sessionkit: (o) => sessionkitSubject(o),
  'sessionkit-string': (o) => sessionkitSubject({ ...o, json: false }),
  'express-session': () => expressMemoryStoreSubject(),
  memorystore: (o) => memorystoreSubject(o.maxSessions === undefined ? {} : { max: o.maxSessions }),
};
