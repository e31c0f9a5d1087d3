import { describe, expect, it } from 'vitest';
import { BackendError, isStoreOutage, type BackendErrorCode } from '../../src/core/errors.js';

const OUTAGES: BackendErrorCode[] = ['unavailable', 'timeout', 'indeterminate'];
const OTHERS: BackendErrorCode[] = ['query_failed', 'closed', 'schema_outdated', 'schema_missing'];

describe('BackendError', () => {
  it.each(OUTAGES)('%s carries the 503 every framework default error path reads, invisibly to logs', async (code) => {
    const error = new BackendError(code, 'down');
    expect(isStoreOutage(error)).toBe(true);
    expect(error).toMatchObject({ status: 503, statusCode: 503, expose: false, headers: { 'Retry-After': '1' } });
    expect(Object.keys(error)).toEqual(Object.keys(new BackendError('closed', 'x')));
    const response = (error as unknown as { getResponse(): Response }).getResponse();
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.text()).toBe('Service Unavailable');
  });

  it.each(OTHERS)('%s is no outage and carries no status: it stays a 500', (code) => {
    const error = new BackendError(code, 'bug');
    expect(isStoreOutage(error)).toBe(false);
    expect('status' in error || 'statusCode' in error || 'getResponse' in error).toBe(false);
  });

  it('anything but a BackendError is no outage', () => {
    expect(isStoreOutage(Object.assign(new Error('x'), { code: 'unavailable' }))).toBe(false);
    expect(isStoreOutage(undefined)).toBe(false);
  });
});
