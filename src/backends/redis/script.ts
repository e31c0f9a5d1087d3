import { createHash } from 'node:crypto';

/**
 * How a session is stored: one Redis string per session, whose TTL is the
 * session's expiry. The string is empty for a session without a value ("not
 * set") and `=` followed by the value otherwise, so one GET tells the three
 * states apart and compare-and-set compares encoded strings.
 */
export const NOT_SET_ENCODED = '';
export const VALUE_MARKER = '=';

/** Encodes a value for storage; `null` means "not set". */
export function encodeValue(value: string | null): string {
  return value === null ? NOT_SET_ENCODED : VALUE_MARKER + value;
}

/** Operation codes of the batch script; each is followed by its arguments in ARGV. */
export const OP = {
  /** get: no arguments; answers the stored string (or nil) and the key's PTTL in ms. */
  get: 'g',
  /** generate: encoded value, expiry seconds (> 0). */
  generate: 'n',
  /** set: encoded value, expiry seconds (> 0); SET XX, so it never creates a key. */
  set: 's',
  /** clear: no arguments. */
  clear: 'c',
  /** compare-and-set: expected encoded value, new encoded value, expiry seconds. */
  compareAndSet: 'x',
} as const;

/**
 * Runs a batch of session operations in one call: KEYS[i] is the key of
 * operation i, ARGV holds each operation's code and arguments in turn. Every
 * operation answers two slots of the reply array; a Redis error of one
 * operation (caught with pcall) is returned in its own slot as an error reply,
 * so the other operations of the batch keep their results.
 */
export const BATCH_SCRIPT = `
local out = {}
local a = 1
for i = 1, #KEYS do
  local key = KEYS[i]
  local op = ARGV[a]
  local r1, r2 = false, 0
  if op == 'g' then
    a = a + 1
    r1 = redis.pcall('GET', key)
    if r1 and not (type(r1) == 'table' and r1.err) then r2 = redis.call('PTTL', key) end
  elseif op == 'n' then
    r1 = redis.pcall('SET', key, ARGV[a + 1], 'EX', ARGV[a + 2])
    a = a + 3
  elseif op == 's' then
    r1 = redis.pcall('SET', key, ARGV[a + 1], 'XX', 'EX', ARGV[a + 2])
    a = a + 3
  elseif op == 'c' then
    a = a + 1
    r1 = redis.pcall('DEL', key)
  elseif op == 'x' then
    local expected, value, expiry = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
    a = a + 4
    local current = redis.pcall('GET', key)
    if type(current) == 'table' and current.err then
      r1 = current
    elseif not current then
      r1 = 'NotFound'
    elseif current ~= expected then
      r1 = 'conflict'
    elseif tonumber(expiry) > 0 then
      r1 = redis.pcall('SET', key, value, 'EX', expiry)
      if not (type(r1) == 'table' and r1.err) then r1 = 'ok' end
    else
      redis.call('DEL', key)
      r1 = 'ok'
    end
  else
    return redis.error_reply('ERR sessionkit batch: unknown operation ' .. tostring(op))
  end
  out[2 * i - 1] = r1
  out[2 * i] = r2
end
return out
`;

/** SHA-1 of {@link BATCH_SCRIPT}, for EVALSHA. */
export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
