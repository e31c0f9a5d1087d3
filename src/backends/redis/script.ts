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

/** Operation codes of the batch script: one character per operation, all of them in ARGV[1]. */
export const OP = {
  /** get: no arguments; answers two slots: the stored string (or nil) and the key's PTTL in ms. */
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

/** Reply slots an operation answers: two for get (value, PTTL), one for the others. */
export function replySlots(code: OpCode): 1 | 2 {
  return code === OP.get ? 2 : 1;
}

/**
 * Runs a batch of session operations in one call. KEYS[i] is the key of
 * operation i; ARGV[1] holds the operations' codes, one character each; the
 * arguments of the operations that take any follow in order. Each operation
 * answers its slots of the reply array in order; a Redis error of one
 * operation (caught with pcall) is returned in its own slot as an error reply,
 * so the other operations of the batch keep their results.
 */
export const BATCH_SCRIPT = `
local codes = ARGV[1]
local out = {}
local o = 0
local a = 2
local function failed(r) return type(r) == 'table' and r.err ~= nil end
for i = 1, #KEYS do
  local key = KEYS[i]
  local op = string.byte(codes, i)
  if op == 103 then -- g: get
    local v = redis.pcall('GET', key)
    out[o + 1] = v
    if v and not failed(v) then out[o + 2] = redis.call('PTTL', key) else out[o + 2] = 0 end
    o = o + 2
  elseif op == 110 then -- n: generate
    out[o + 1] = redis.pcall('SET', key, ARGV[a], 'EX', ARGV[a + 1])
    a = a + 2
    o = o + 1
  elseif op == 115 then -- s: set, only an existing key
    out[o + 1] = redis.pcall('SET', key, ARGV[a], 'XX', 'EX', ARGV[a + 1])
    a = a + 2
    o = o + 1
  elseif op == 99 then -- c: clear
    out[o + 1] = redis.pcall('DEL', key)
    o = o + 1
  elseif op == 120 then -- x: compare-and-set
    local expected, value, expiry = ARGV[a], ARGV[a + 1], ARGV[a + 2]
    a = a + 3
    local current = redis.pcall('GET', key)
    local r
    if failed(current) then
      r = current
    elseif not current then
      r = 'NotFound'
    elseif current ~= expected then
      r = 'conflict'
    elseif tonumber(expiry) > 0 then
      r = redis.pcall('SET', key, value, 'EX', expiry)
      if not failed(r) then r = 'ok' end
    else
      redis.call('DEL', key)
      r = 'ok'
    end
    out[o + 1] = r
    o = o + 1
  else
    return redis.error_reply('ERR sessionkit batch: unknown operation ' .. tostring(op))
  end
end
return out
`;

/** SHA-1 of {@link BATCH_SCRIPT}, for EVALSHA. */
export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
