import { createHash } from 'node:crypto';

/**
 * How a session is stored: one Redis string per session, whose TTL is the
 * session's expiry. The string starts with that same expiry instant (Redis
 * server time, in milliseconds since the epoch, as decimal digits), then holds
 * nothing for a session without a value ("not set") or `=` followed by the
 * value. So one GET tells the three states apart and gives the seconds left
 * without a second command, and compare-and-set compares what follows the
 * digits.
 */
export const VALUE_MARKER = '=';

/** Encodes a value for storage, without the expiry instant the script puts in front; `null` means "not set". */
export function encodeValue(value: string | null): string {
  return value === null ? '' : VALUE_MARKER + value;
}

/** A stored string, decoded: the expiry instant (server ms) and the value (`null`: not set). */
export interface StoredSession {
  expiresAtMs: number;
  value: string | null;
}

/** Decodes a stored string; `undefined` when it is not one sessionkit wrote. */
export function decodeStored(stored: string): StoredSession | undefined {
  const marker = stored.indexOf(VALUE_MARKER);
  const digits = marker === -1 ? stored : stored.slice(0, marker);
  if (!/^\d{1,16}$/.test(digits)) return undefined;
  return { expiresAtMs: Number(digits), value: marker === -1 ? null : stored.slice(marker + 1) };
}

/** Operation codes of the batch script: one character per operation, all of them in ARGV[1]. */
export const OP = {
  /** get: no arguments; answers the stored string, or nil. */
  get: 'g',
  /** generate: encoded value, expiry seconds (> 0). */
  generate: 'n',
  /** set: encoded value, expiry seconds (> 0); SET XX, so it never creates a key. */
  set: 's',
  /** clear: no arguments. */
  clear: 'c',
  /** compare-and-set: expected encoded value, new encoded value, expiry seconds; answers 'ok', 'conflict' or 'NotFound'. */
  compareAndSet: 'x',
} as const;

/** An operation code of {@link OP}. */
export type OpCode = (typeof OP)[keyof typeof OP];

/**
 * Runs a batch of session operations in one call. KEYS[i] is the key of
 * operation i; ARGV[1] holds the operations' codes, one character each; the
 * arguments of the operations that take any follow in order. The reply is the
 * server's time in milliseconds, then one slot per operation; a Redis error
 * of one operation (caught with pcall) is returned in its own slot as an error
 * reply, so the other operations of the batch keep their results. The script
 * reads the clock once: Redis freezes it while a script runs, so the expiry
 * stored in front of a value and the key's TTL name the same instant.
 */
export const BATCH_SCRIPT = `
local codes = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { now }
local a = 2
local function failed(r) return type(r) == 'table' and r.err ~= nil end
local function stamp(expiry) return string.format('%.0f', now + tonumber(expiry) * 1000) end
for i = 1, #KEYS do
  local key = KEYS[i]
  local op = string.byte(codes, i)
  if op == 103 then -- g: get
    out[i + 1] = redis.pcall('GET', key)
  elseif op == 110 then -- n: generate
    out[i + 1] = redis.pcall('SET', key, stamp(ARGV[a + 1]) .. ARGV[a], 'EX', ARGV[a + 1])
    a = a + 2
  elseif op == 115 then -- s: set, only an existing key
    out[i + 1] = redis.pcall('SET', key, stamp(ARGV[a + 1]) .. ARGV[a], 'XX', 'EX', ARGV[a + 1])
    a = a + 2
  elseif op == 99 then -- c: clear
    out[i + 1] = redis.pcall('DEL', key)
  elseif op == 120 then -- x: compare-and-set
    local expected, value, expiry = ARGV[a], ARGV[a + 1], ARGV[a + 2]
    a = a + 3
    local current = redis.pcall('GET', key)
    local r
    if failed(current) then
      r = current
    elseif not current then
      r = 'NotFound'
    else
      local marker = string.find(current, '=', 1, true)
      local held = marker and string.sub(current, marker) or ''
      if held ~= expected then
        r = 'conflict'
      elseif tonumber(expiry) > 0 then
        r = redis.pcall('SET', key, stamp(expiry) .. value, 'EX', expiry)
        if not failed(r) then r = 'ok' end
      else
        redis.call('DEL', key)
        r = 'ok'
      end
    end
    out[i + 1] = r
  else
    return redis.error_reply('ERR sessionkit batch: unknown operation ' .. tostring(op))
  end
end
return out
`;

/** SHA-1 of {@link BATCH_SCRIPT}, for EVALSHA. */
export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
