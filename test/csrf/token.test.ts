import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/index.js';
import { SessionEngine } from '../../src/http/index.js';
import { csrfToken, CSRF_TOKEN_FIELD, verifyCsrfToken } from '../../src/csrf/index.js';

describe('csrfToken / verifyCsrfToken on typed sessions', () => {
  let backend: MemoryBackend;
  let engine: SessionEngine<{ user?: string }>;
  beforeEach(() => {
    backend = new MemoryBackend();
    engine = new SessionEngine(backend);
  });
  afterEach(() => backend.close());

  /** Runs one request with `cookie` and returns the cookie the response sets (or the same one). */
  async function request(cookie: string | undefined, handler: (session: Awaited<ReturnType<typeof engine.load>>['session']) => void): Promise<string | undefined> {
    const context = await engine.load(cookie);
    handler(context.session);
    const pairs = await context.commit();
    const set = pairs.find(([name]) => name.toLowerCase() === 'set-cookie');
    return set === undefined ? cookie : set[1].split(';')[0];
  }

  it('the first call stores a 256-bit token in the reserved field and creates the session; later requests get the same token', async () => {
    let token = '';
    const cookie = await request(undefined, (session) => {
      expect(session.isNew).toBe(true);
      token = csrfToken(session);
      expect(csrfToken(session)).toBe(token);
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie).toBeDefined();
    await request(cookie, (session) => {
      expect(session.data).toEqual({ [CSRF_TOKEN_FIELD]: token });
      expect(csrfToken(session)).toBe(token);
      expect(verifyCsrfToken(session, token)).toBe(true);
      expect(session.status).toBe('unmodified');
    });
  });

  it('refuses a wrong, truncated, padded or non-string token, and any token where the session has none', async () => {
    let token = '';
    const cookie = await request(undefined, (session) => {
      expect(verifyCsrfToken(session, 'anything')).toBe(false);
      expect(session.status).toBe('unmodified'); // verifying never creates a token
      token = csrfToken(session);
    });
    await request(cookie, (session) => {
      const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
      for (const bad of [flipped, token.slice(1), `${token}x`, '', undefined, null, 42, [token], { token }]) {
        expect(verifyCsrfToken(session, bad), String(bad)).toBe(false);
      }
      expect(verifyCsrfToken(session, token)).toBe(true);
    });
    // Another session's token is not this one's.
    await request(undefined, (session) => expect(verifyCsrfToken(session, token)).toBe(false));
  });

  it('distinct sessions get distinct tokens; a malformed value in the field is replaced, never verified', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 200; i++) await request(undefined, (session) => void tokens.add(csrfToken(session)));
    expect(tokens.size).toBe(200);

    await request(undefined, (session) => {
      (session as never as { set(name: string, value: unknown): void }).set(CSRF_TOKEN_FIELD, 'short');
      expect(verifyCsrfToken(session, 'short')).toBe(false);
      const token = csrfToken(session);
      expect(token).not.toBe('short');
      expect(verifyCsrfToken(session, token)).toBe(true);
    });
  });

  it('regenerate() keeps the token with the data; destroy() removes it', async () => {
    let token = '';
    const first = await request(undefined, (session) => void (token = csrfToken(session)));
    const second = await request(first, (session) => {
      session.regenerate();
      session.set('user', 'ada');
    });
    expect(second).not.toBe(first);
    await request(second, (session) => {
      expect(verifyCsrfToken(session, token)).toBe(true);
      session.destroy();
    });
    await request(second, (session) => expect(verifyCsrfToken(session, token)).toBe(false));
  });
});
