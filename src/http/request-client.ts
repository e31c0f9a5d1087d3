import { isIP } from 'node:net';

/**
 * What a request says about the client that sent it, as an adapter hands it
 * to `SessionEngine.load` when `recordUserAgent` or `recordClientAddress` is
 * on: its `User-Agent` header and its address (already chosen through the
 * framework's trusted proxies). Either may be absent.
 */
export interface RequestClient {
  readonly userAgent?: string | undefined;
  readonly clientAddress?: string | undefined;
}

/** Longest `User-Agent` kept, in UTF-16 units: a device list needs the browser and system, not a header of kilobytes in every session. */
export const MAX_USER_AGENT_LENGTH = 256;

/**
 * What a write records of `client` under the options: the user agent cut to
 * {@link MAX_USER_AGENT_LENGTH} and the address as {@link normalizedAddress}
 * reads it, each only when its option is on. Never throws: a header that is
 * not a string, or an address that is no IP address, is not recorded.
 */
export function recordedClient(client: RequestClient, recordUserAgent: boolean, recordClientAddress: boolean): RequestClient {
  const { userAgent, clientAddress } = client;
  return {
    userAgent: recordUserAgent && typeof userAgent === 'string' && userAgent !== '' ? cutUserAgent(userAgent) : undefined,
    clientAddress: recordClientAddress ? normalizedAddress(clientAddress) : undefined,
  };
}

function cutUserAgent(userAgent: string): string {
  // A header's bytes arrive as Latin-1, so no surrogate pair is cut here; the check keeps it so for any caller.
  const cut = userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent;
  return cut.isWellFormed() ? cut : cut.toWellFormed();
}

/** `address` as an IP address (an IPv4-mapped IPv6 address as its IPv4 form, so `::ffff:10.0.0.1` shows as `10.0.0.1`), or undefined for anything else. */
export function normalizedAddress(address: unknown): string | undefined {
  if (typeof address !== 'string') return undefined;
  const trimmed = address.trim();
  const mapped = trimmed.toLowerCase().startsWith('::ffff:') ? trimmed.slice(7) : trimmed;
  if (mapped !== trimmed && isIP(mapped) === 4) return mapped;
  return isIP(trimmed) === 0 ? undefined : trimmed;
}

/**
 * Proxies in front of a plain `node:http` server whose `X-Forwarded-For`
 * entries are believed: a number of hops (0, the default: none, the socket's
 * peer is the client), or the addresses of the proxies (each hop whose
 * address is listed passes on to the entry it added). Express, Fastify and
 * Koa have a setting of their own (`trust proxy`, `trustProxy`, `app.proxy`),
 * which their adapters follow instead.
 */
export type TrustProxy = number | readonly string[];

/** Throws a `TypeError` unless `trustProxy` is a whole number from 0 or a list of IP addresses. */
export function assertTrustProxy(trustProxy: unknown): asserts trustProxy is TrustProxy {
  if (typeof trustProxy === 'number' && Number.isSafeInteger(trustProxy) && trustProxy >= 0) return;
  if (Array.isArray(trustProxy) && trustProxy.every((address) => normalizedAddress(address) !== undefined)) return;
  throw new TypeError('trustProxy must be a whole number of proxy hops from 0, or a list of the proxies\' IP addresses');
}

/**
 * The client's address: the socket's peer, or, through trusted proxies, the
 * entry of `X-Forwarded-For` the last trusted hop added (proxies append, so
 * the list is walked from its right end, as Express's `req.ip` does).
 * Undefined when the chosen entry is no IP address.
 */
export function forwardedClientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: TrustProxy): string | undefined {
  if (trustProxy === 0 || (Array.isArray(trustProxy) && trustProxy.length === 0) || forwardedFor === undefined) return normalizedAddress(socketAddress);
  const hops = [socketAddress, ...String(forwardedFor).split(',').reverse()];
  if (typeof trustProxy === 'number') return normalizedAddress(hops[Math.min(trustProxy, hops.length - 1)]);
  const trusted = new Set(trustProxy.map(normalizedAddress));
  let hop = 0;
  while (hop < hops.length - 1 && trusted.has(normalizedAddress(hops[hop]))) hop++;
  return normalizedAddress(hops[hop]);
}

/** Throws a `TypeError` at setup for `recordClientAddress` in an adapter that sees no client address (fetch: a `Request` carries none). */
export function assertNoClientAddress(recordClientAddress: boolean, adapter: string): void {
  if (recordClientAddress) throw new TypeError(`recordClientAddress: ${adapter} sees no client address (a Request carries none); pass it to SessionEngine.load yourself`);
}
