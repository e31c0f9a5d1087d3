import { describe, expect, it } from 'vitest';
import { crossOriginGuard, type CsrfVerdict, type RequestHeaders } from '../../src/csrf/index.js';

const HOST = 'app.example:8443';
const TRUSTED = 'https://admin.example';
const guard = crossOriginGuard({ trustedOrigins: [TRUSTED] });

const SITES = [undefined, 'same-origin', 'none', 'same-site', 'cross-site', 'bogus'] as const;
const ORIGINS = {
  absent: undefined,
  'same host, https': `https://${HOST}`,
  'same host, http (scheme not compared)': `http://${HOST}`,
  'same host, upper case': `HTTPS://APP.EXAMPLE:8443`,
  'same host, other port': 'https://app.example:9443',
  'same host, no port': 'https://app.example',
  'other host': 'https://evil.example:8443',
  trusted: TRUSTED,
  null: 'null',
  'with a path': `https://${HOST}/x`,
} as const;
type OriginName = keyof typeof ORIGINS;
const MATCHING: OriginName[] = ['same host, https', 'same host, http (scheme not compared)', 'same host, upper case'];

/** The Go 1.25 CrossOriginProtection decision, written as a table for unsafe methods. */
function expected(site: (typeof SITES)[number], origin: OriginName): boolean {
  if (site === 'same-origin' || site === 'none') return true;
  if (site !== undefined) return origin === 'trusted';
  if (origin === 'absent') return true;
  return MATCHING.includes(origin) || origin === 'trusted';
}

const record = (site: string | undefined, origin: string | undefined): RequestHeaders => ({
  host: HOST,
  ...(site === undefined ? {} : { 'sec-fetch-site': site }),
  ...(origin === undefined ? {} : { origin }),
});
const fetchHeaders = (site: string | undefined, origin: string | undefined): RequestHeaders => {
  const headers = new Headers({ host: HOST });
  if (site !== undefined) headers.set('sec-fetch-site', site);
  if (origin !== undefined) headers.set('origin', origin);
  return headers;
};

describe('crossOriginGuard: every Sec-Fetch-Site × Origin combination', () => {
  const cases = SITES.flatMap((site) => (Object.keys(ORIGINS) as OriginName[]).map((origin) => [site ?? '(absent)', origin, site] as const));

  it.each(cases)('unsafe methods, Sec-Fetch-Site %s, Origin %s', (_siteName, origin, site) => {
    const allowed = expected(site, origin);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', undefined]) {
      for (const headers of [record(site, ORIGINS[origin]), fetchHeaders(site, ORIGINS[origin])]) {
        const verdict = guard(method, headers);
        expect(verdict.allowed, `${method} ${headers instanceof Headers ? 'Headers' : 'record'}`).toBe(allowed);
        if (!verdict.allowed) {
          expect(verdict.status).toBe(403);
          expect(verdict.reason).toBe(site === undefined ? 'origin-mismatch' : 'cross-site');
          expect(verdict.body).toMatch(/^Forbidden: cross-origin request refused \(CSRF protection\): .+\n$/);
        }
      }
    }
  });

  it.each(cases)('GET, HEAD and OPTIONS always pass: Sec-Fetch-Site %s, Origin %s', (_siteName, origin, site) => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(guard(method, record(site, ORIGINS[origin])).allowed).toBe(true);
  });
});

describe('crossOriginGuard: the request host', () => {
  it('falls back to :authority (HTTP/2), then to the given host; no host at all refuses a foreign Origin', () => {
    expect(guard('POST', { ':authority': HOST, origin: `https://${HOST}` }).allowed).toBe(true);
    expect(guard('POST', { origin: `https://${HOST}` }, HOST).allowed).toBe(true);
    expect(guard('POST', { origin: `https://${HOST}` }).allowed).toBe(false);
    expect(guard('POST', { host: 'other.example', origin: `https://${HOST}` }, HOST).allowed).toBe(true);
  });

  it('repeated headers (joined by Node) match nothing: refused, never allowed by accident', () => {
    expect(guard('POST', { host: HOST, 'sec-fetch-site': 'same-origin, cross-site' }).allowed).toBe(false);
    expect(guard('POST', { host: HOST, 'sec-fetch-site': ['same-origin', 'cross-site'] }).allowed).toBe(false);
    expect(guard('POST', { host: HOST, origin: [`https://${HOST}`, 'https://evil.example'] }).allowed).toBe(false);
  });

  it('empty header values count as absent', () => {
    expect(guard('POST', { host: HOST, 'sec-fetch-site': '', origin: '' }).allowed).toBe(true);
    expect(guard('POST', { host: HOST, 'sec-fetch-site': '', origin: 'https://evil.example' }).allowed).toBe(false);
  });

  it('a Headers-like object whose get is not a function is read as a record', () => {
    const hostile = { get: 'x', host: HOST, origin: 'https://evil.example' } as unknown as RequestHeaders;
    expect(guard('POST', hostile).allowed).toBe(false);
  });
});

describe('crossOriginGuard: options', () => {
  it('false allows everything; undefined and {} check', () => {
    const cross = { host: HOST, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    expect(crossOriginGuard(false)('POST', cross)).toEqual({ allowed: true });
    expect(crossOriginGuard()('POST', cross).allowed).toBe(false);
    expect(crossOriginGuard({})('POST', cross).allowed).toBe(false);
  });

  it('trusted origins are compared in the form browsers send (lower case, default port dropped)', () => {
    const check = crossOriginGuard({ trustedOrigins: ['HTTPS://Admin.Example:443', 'http://localhost:5173/'] });
    const from = (origin: string): CsrfVerdict => check('POST', { host: HOST, 'sec-fetch-site': 'cross-site', origin });
    expect(from('https://admin.example').allowed).toBe(true);
    expect(from('http://localhost:5173').allowed).toBe(true);
    expect(from('http://admin.example').allowed).toBe(false);
    expect(from('https://admin.example.evil').allowed).toBe(false);
  });

  it.each([
    ['a string', 'https://a.example'],
    ['a number in the list', [42]],
    ['a path', ['https://a.example/app']],
    ['a query', ['https://a.example?x']],
    ['credentials', ['https://u:p@a.example']],
    ['no scheme', ['a.example']],
    ['null', ['null']],
    ['an opaque origin', ['data:text/html,x']],
  ])('trustedOrigins with %s is a TypeError', (_name, trustedOrigins) => {
    expect(() => crossOriginGuard({ trustedOrigins } as never)).toThrow(TypeError);
  });

  it('a request that carries the session header passes where it would be refused, and the question is asked only then', () => {
    const asked: RequestHeaders[] = [];
    const check = crossOriginGuard({}, (headers) => {
      asked.push(headers);
      return 'authorization' in headers;
    });
    const cross = { host: HOST, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    expect(check('POST', { ...cross, authorization: 'Bearer k' }).allowed).toBe(true);
    expect(check('POST', { host: HOST, origin: 'https://evil.example', authorization: 'Bearer k' }).allowed).toBe(true);
    expect(check('POST', cross)).toMatchObject({ allowed: false, reason: 'cross-site' });
    expect(asked).toHaveLength(3);
    expect(check('POST', { host: HOST, 'sec-fetch-site': 'same-origin' }).allowed).toBe(true);
    expect(check('GET', cross).allowed).toBe(true);
    expect(asked).toHaveLength(3);
  });

  it.each([[null], [true], ['on'], [[]]])('csrf: %j is a TypeError', (option) => {
    expect(() => crossOriginGuard(option as never)).toThrow(TypeError);
  });
});
