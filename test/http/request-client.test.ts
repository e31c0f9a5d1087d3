import { describe, expect, it } from 'vitest';
import { forwardedClientAddress, MAX_USER_AGENT_LENGTH, normalizedAddress, recordedClient } from '../../src/http/request-client.js';

describe('request client', () => {
  it('normalizedAddress keeps IP addresses, shows an IPv4-mapped one as IPv4, and drops anything else', () => {
    expect(normalizedAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizedAddress(' 2001:db8::1 ')).toBe('2001:db8::1');
    expect(normalizedAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizedAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizedAddress('::ffff:abcd')).toBe('::ffff:abcd');
    for (const bad of ['', 'localhost', '1.2.3.4:80', '<script>', undefined, 42]) expect(normalizedAddress(bad), String(bad)).toBeUndefined();
  });

  it('recordedClient keeps only what the options record, the user agent cut and well-formed', () => {
    const client = { userAgent: 'UA', clientAddress: '::1' };
    expect(recordedClient(client, true, true)).toEqual(client);
    expect(recordedClient(client, false, true)).toEqual({ userAgent: undefined, clientAddress: '::1' });
    expect(recordedClient(client, true, false)).toEqual({ userAgent: 'UA', clientAddress: undefined });
    expect(recordedClient({ userAgent: 'x'.repeat(1000), clientAddress: 'nope' }, true, true)).toEqual({ userAgent: 'x'.repeat(MAX_USER_AGENT_LENGTH), clientAddress: undefined });
    // A pair cut in the middle leaves no lone surrogate, which no store would take.
    const cut = recordedClient({ userAgent: 'x'.repeat(MAX_USER_AGENT_LENGTH - 1) + '😀' }, true, false).userAgent!;
    expect(cut.isWellFormed()).toBe(true);
    expect(cut).toHaveLength(MAX_USER_AGENT_LENGTH);
    expect(recordedClient({ userAgent: '' }, true, true)).toEqual({ userAgent: undefined, clientAddress: undefined });
  });

  it('forwardedClientAddress walks X-Forwarded-For from the right, only as far as the trusted hops', () => {
    const chain = '198.51.100.1, 203.0.113.9';
    expect(forwardedClientAddress('127.0.0.1', chain, 0)).toBe('127.0.0.1');
    expect(forwardedClientAddress('127.0.0.1', chain, 1)).toBe('203.0.113.9');
    expect(forwardedClientAddress('127.0.0.1', chain, 2)).toBe('198.51.100.1');
    expect(forwardedClientAddress('127.0.0.1', chain, 5)).toBe('198.51.100.1');
    expect(forwardedClientAddress('127.0.0.1', undefined, 1)).toBe('127.0.0.1');
    expect(forwardedClientAddress('::ffff:127.0.0.1', chain, ['127.0.0.1'])).toBe('203.0.113.9');
    // An untrusted peer's header is never read, whatever it claims.
    expect(forwardedClientAddress('192.0.2.7', chain, ['127.0.0.1'])).toBe('192.0.2.7');
    expect(forwardedClientAddress('127.0.0.1', 'garbage', 1)).toBeUndefined();
    expect(forwardedClientAddress('127.0.0.1', ['10.0.0.1', '10.0.0.2'], 1)).toBe('10.0.0.2');
  });
});
