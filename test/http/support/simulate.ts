import { parseSetCookie, type SetCookie } from 'cookie';
import type { HeaderPair, Session, SessionEngine } from '../../../src/http/index.js';

export interface Simulated<Data extends object> {
  pairs: HeaderPair[];
  /** The parsed Set-Cookie, if the response had one. */
  cookie: SetCookie | undefined;
  session: Session<Data>;
}

/** One request through the engine as an adapter runs it: load, handler, commit. */
export async function simulate<Data extends object>(
  engine: SessionEngine<Data>,
  key: string | undefined,
  handler: (session: Session<Data>) => unknown = () => undefined,
): Promise<Simulated<Data>> {
  const context = await engine.load(key === undefined ? undefined : `${engine.cookieName}=${key}`);
  await handler(context.session);
  const pairs = await context.commit();
  const setCookie = pairs.find(([name]) => name === 'Set-Cookie');
  return { pairs, cookie: setCookie === undefined ? undefined : parseSetCookie(setCookie[1]), session: context.session };
}

/** The data stored under `key`, parsed from the envelope, or undefined. */
export async function storedData(backend: { get(key: string): Promise<{ ok: boolean; value?: string }> }, key: string): Promise<Record<string, unknown> | undefined> {
  const result = await backend.get(key);
  if (!result.ok || result.value === undefined) return undefined;
  return (JSON.parse(result.value) as { data: Record<string, unknown> }).data;
}
