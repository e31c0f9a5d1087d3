import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HeaderPair, Session, SessionOptions } from '../../src/http/index.js';
import { resolveSessionHeader, readSessionHeader } from '../../src/http/session-header.js';
import { testEngine } from './support/test-engine.js';

type Data = { user?: string };
const BEARER: SessionOptions = { transport: { cookie: false, header: true } };

/** One header request through the engine, as an adapter runs it: its pairs, and the key it was handed (or '' for an ended session). */
async function request(engine: ReturnType<typeof testEngine<Data>>['engine'], authorization: string | undefined, handler: (session: Session<Data>) => unknown = () => undefined) {
  const context = await engine.load(undefined, new Headers(authorization === undefined ? {} : { authorization }));
  await handler(context.session);
  const pairs = await context.commit();
  return { pairs, transport: context.transport, sent: pairs.find(([name]) => name === 'Set-Auth-Token')?.[1] };
}

const cacheAndVary = (pairs: HeaderPair[]) => pairs.filter(([name]) => name !== 'Set-Auth-Token');

describe('the header transport through the engine', () => {
  it('a first write hands out the key; a write to it later, or a renewal, hands out nothing (the client keeps its key)', async () => {
    const { engine, clock } = testEngine<Data>({ ...BEARER, touchAfterSeconds: 60, idleTimeoutSeconds: 3600 });
    const first = await request(engine, undefined, (session) => session.set('user', 'ann'));
    expect(first.transport).toBe('header');
    expect(first.sent).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(cacheAndVary(first.pairs)).toEqual([
      ['Cache-Control', 'no-store'],
      ['Vary', 'Authorization'],
    ]);
    const write = await request(engine, `Bearer ${first.sent}`, (session) => session.set('user', 'bob'));
    expect(write.pairs).toEqual([['Vary', 'Authorization']]);
    clock.advance(120);
    const renewal = await request(engine, `Bearer ${first.sent}`, (session) => session.get('user'));
    expect(renewal.pairs).toEqual([['Vary', 'Authorization']]);
    expect((await request(engine, `Bearer ${first.sent}`, (session) => expect(session.get('user')).toBe('bob'))).sent).toBeUndefined();
  });

  it('a session past its absolute lifetime is ended in the header (empty), with no-store', async () => {
    const { engine, clock } = testEngine<Data>({ ...BEARER, absoluteLifetimeSeconds: 60 });
    const { sent: key } = await request(engine, undefined, (session) => session.set('user', 'ann'));
    // The wall clock alone: the store still holds the session, the lifetime says it is over.
    clock.wallMs += 61_000;
    const expired = await request(engine, `Bearer ${key}`, (session) => expect(session.get('user')).toBeUndefined());
    expect(expired.sent).toBe('');
    expect(cacheAndVary(expired.pairs)).toEqual([
      ['Cache-Control', 'no-store'],
      ['Vary', 'Authorization'],
    ]);
  });

  it('logoutEverywhere ends this session in the header too', async () => {
    const { engine } = testEngine<Data>({ ...BEARER, owners: true });
    const { sent: key } = await request(engine, undefined, (session) => session.regenerate({ owner: 'u1' }));
    const out = await request(engine, `Bearer ${key}`, (session) => session.logoutEverywhere());
    expect(out.sent).toBe('');
    expect((await request(engine, `Bearer ${key}`, (session) => expect(session.owner).toBeUndefined())).sent).toBeUndefined();
  });

  it('with the cookie on too, a cookie request answers in Set-Cookie and varies on both; the cookie-only engine is as before', async () => {
    const { engine } = testEngine<Data>({ transport: { header: true } });
    const context = await engine.load(undefined, new Headers());
    context.session.set('user', 'ann');
    const pairs = await context.commit();
    expect(context.transport).toBe('cookie');
    expect(pairs.map(([name, value]) => (name === 'Set-Cookie' ? name : `${name}: ${value}`))).toEqual(['Set-Cookie', 'Cache-Control: no-store', 'Vary: Cookie', 'Vary: Authorization']);
    const { engine: plain } = testEngine<Data>();
    const untouched = await plain.load(undefined);
    expect([untouched.transport, await untouched.commit()]).toEqual(['cookie', [['Vary', 'Cookie']]]);
  });
});

describe('readSessionHeader', () => {
  const bearer = resolveSessionHeader(true, false)!;
  const named = resolveSessionHeader({ requestHeader: 'X-Session-Token' }, false)!;
  const key = 'k'.repeat(40);

  it('reads Fetch Headers, node records, node requests (every value) and Fetch requests alike', () => {
    expect(readSessionHeader(new Headers({ authorization: `Bearer ${key}` }), bearer)).toEqual({ kind: 'key', key });
    expect(readSessionHeader({ authorization: `Bearer ${key}` }, bearer)).toEqual({ kind: 'key', key });
    expect(readSessionHeader({ headers: { authorization: `Bearer ${key}` }, headersDistinct: { authorization: [`Bearer ${key}`, `Bearer ${key}`] } }, bearer)).toEqual({ kind: 'invalid' });
    expect(readSessionHeader(new Request('http://x/', { headers: { 'x-session-token': key } }), named)).toEqual({ kind: 'key', key });
    expect(readSessionHeader(undefined, bearer)).toEqual({ kind: 'absent' });
    expect(readSessionHeader({ authorization: 'Basic YTpi' }, bearer)).toEqual({ kind: 'absent' });
    expect(readSessionHeader({ authorization: 'Bearerx' }, bearer)).toEqual({ kind: 'absent' });
    expect(readSessionHeader({ 'x-session-token': '' }, named)).toEqual({ kind: 'invalid' });
  });

  it('property: any header value never throws and only ever yields a well-formed key', () => {
    const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string().map((text) => `Bearer ${text}`), fc.constant(`Bearer ${key}`.repeat(500)));
    const source = fc.oneof(
      value.map((text) => ({ authorization: text, 'x-session-token': text })),
      fc.array(value, { maxLength: 3 }).map((values) => ({ headers: {}, headersDistinct: { authorization: values, 'x-session-token': values } })),
    );
    fc.assert(
      fc.property(source, fc.constantFrom(bearer, named), (headers, header) => {
        const result = readSessionHeader(headers, header);
        if (result.kind === 'key') expect(result.key).toMatch(/^[A-Za-z0-9+/=_-]{1,40}$/);
      }),
      { numRuns: 2000 },
    );
  });
});
