import { createHash } from 'node:crypto';
import { HEAD_BYTES } from './stored-value.js';

/** Operation codes of the batch script: one character per operation, all of them in ARGV[1]. */
export const OP = {
  /** get: no arguments; answers the stored string, or nil. */
  get: 'g',
  /** generate, and put: encoded value, expiry seconds (> 0); creates or replaces (a plain SET), leaving no owner head. */
  generate: 'n',
  /** set: encoded value, expiry seconds (> 0); never creates a key. On an owned session past its owner set's cover, writes nothing and answers `@` + owner tag. */
  set: 's',
  /** clear: no arguments. */
  clear: 'c',
  /** compare-and-set: expected encoded value, new encoded value, expiry seconds; answers 'ok', 'conflict', 'NotFound', or (owned, past cover, nothing written) `@` + owner tag. */
  compareAndSet: 'x',
  /** generate with an owner: encoded value, expiry seconds (> 0), owner tag; records the owner set as covered for twice the expiry. */
  generateOwned: 'o',
  /** set after the owner set was extended: as `set`, but records a new cover of twice the expiry. */
  setCovered: 'S',
  /** compare-and-set after the owner set was extended: as `compareAndSet`, but records a new cover of twice the expiry. */
  compareAndSetCovered: 'X',
  /** peek at a session: no arguments; answers its first HEAD_BYTES bytes ('' when missing). */
  peek: 'p',
  /** delete a session if it belongs to an owner: owner tag; answers 1 when a live session was deleted, else 0. */
  deleteOwned: 'd',
  /** owner set, add: member, TTL ms, '1' to answer the set (else 1). ZADD scored by server time, TTL only ever extended. */
  ownerAdd: 'a',
  /** owner set, make sure a member is there (ZADD NX) and extend the TTL: member, TTL ms. */
  ownerExtend: 'e',
  /** owner set, list: no arguments; answers ZRANGE 0 -1 WITHSCORES (oldest first). */
  ownerList: 'l',
  /** owner set, remove members: count, then the members. */
  ownerRemove: 'r',
} as const;

/** An operation code of {@link OP}. */
export type OpCode = (typeof OP)[keyof typeof OP];

/** The byte the script compares an operation's code with: the Lua below is written from {@link OP}, so the two cannot disagree. */
function code(op: OpCode): number {
  return op.charCodeAt(0);
}

/**
 * Runs a batch of session operations in one call. KEYS[i] is the key of
 * operation i; ARGV[1] holds the operations' codes, one character each; the
 * arguments of the operations that take any follow in order. The reply is the
 * server's time in milliseconds, then one slot per operation; a Redis error
 * of one operation (caught with pcall) is returned in its own slot as an error
 * reply, so the other operations of the batch keep their results. The script
 * reads the clock once and sets every TTL with PXAT to the very instant it
 * stores in front of the value: EX would read the clock again (Redis 7.0 does
 * not freeze it inside a script), and the two could differ by a millisecond.
 *
 * Owner operations ('a', 'e', 'l', 'r') work on an owner's sorted set, whose
 * key is KEYS[i] like any other: a batch only ever holds keys of one slot.
 */
export const BATCH_SCRIPT = `
local codes = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { now }
local a = 2
local function failed(r) return type(r) == 'table' and r.err ~= nil end
-- Formatting a number costs more than the SET it goes into: once per distinct expiry in a batch.
local stamps = {}
local function stamp(expiry)
  local s = stamps[expiry]
  if not s then
    s = string.format('%.0f', now + tonumber(expiry) * 1000)
    stamps[expiry] = s
  end
  return s
end
-- The owner head of a stored string: owner tag and covered instant, or nil for a session without owner.
local function owner_of(s)
  local _, tag, covered = string.match(s, '^(%d+)@([%w_%-]+)@(%d+)')
  return tag, covered
end
-- Writes a live session's new value and expiry, keeping its owner head. refresh: the owner set was
-- just extended, record a new cover. Answers '@' .. tag, writing nothing, when the new expiry
-- would outlive what the owner set is known to cover.
local function write(key, current, value, expiry, refresh, xx)
  local tag, covered = owner_of(current)
  local body = value
  if tag then
    if refresh then
      covered = stamp(2 * tonumber(expiry))
    elseif tonumber(stamp(expiry)) > tonumber(covered) then
      return '@' .. tag
    end
    body = '@' .. tag .. '@' .. covered .. value
  end
  if xx then return redis.pcall('SET', key, stamp(expiry) .. body, 'XX', 'PXAT', stamp(expiry)) end
  return redis.pcall('SET', key, stamp(expiry) .. body, 'PXAT', stamp(expiry))
end
-- One SET for a session without owner: SET XX GET writes and hands back the old string. An owned
-- one is then rewritten with its owner head, or, when past its cover, put back as it was (the script
-- is atomic: nobody sees the step in between).
local function set(key, value, expiry, refresh)
  local old = redis.pcall('SET', key, stamp(expiry) .. value, 'XX', 'PXAT', stamp(expiry), 'GET')
  if failed(old) or not old then return old end
  if not owner_of(old) then return 'OK' end
  local r = write(key, old, value, expiry, refresh, true)
  if type(r) == 'string' then redis.call('SET', key, old, 'PXAT', string.match(old, '^%d+')) end
  return r
end
local function cas(key, expected, value, expiry, refresh)
  local current = redis.pcall('GET', key)
  if failed(current) then return current end
  if not current then return 'NotFound' end
  local marker = string.find(current, '=', 1, true)
  local held = marker and string.sub(current, marker) or ''
  if held ~= expected then return 'conflict' end
  if tonumber(expiry) <= 0 then
    redis.call('DEL', key)
    return 'ok'
  end
  local r = write(key, current, value, expiry, refresh, false)
  if failed(r) or type(r) == 'string' then return r end
  return 'ok'
end
-- An owner set lives at least ttl ms from now: PEXPIRE only when that is longer (or it had no TTL).
local function extend(key, ttl)
  local left = redis.call('PTTL', key)
  if left == -1 or (left >= 0 and left < tonumber(ttl)) then redis.call('PEXPIRE', key, ttl) end
end
for i = 1, #KEYS do
  local key = KEYS[i]
  local op = string.byte(codes, i)
  local r
  if op == ${code(OP.get)} then -- get
    r = redis.pcall('GET', key)
  elseif op == ${code(OP.generate)} then -- generate, put
    r = redis.pcall('SET', key, stamp(ARGV[a + 1]) .. ARGV[a], 'PXAT', stamp(ARGV[a + 1]))
    a = a + 2
  elseif op == ${code(OP.set)} or op == ${code(OP.setCovered)} then -- set, only an existing key
    r = set(key, ARGV[a], ARGV[a + 1], op == ${code(OP.setCovered)})
    a = a + 2
  elseif op == ${code(OP.clear)} then -- clear
    r = redis.pcall('DEL', key)
  elseif op == ${code(OP.compareAndSet)} or op == ${code(OP.compareAndSetCovered)} then -- compare-and-set
    r = cas(key, ARGV[a], ARGV[a + 1], ARGV[a + 2], op == ${code(OP.compareAndSetCovered)})
    a = a + 3
  elseif op == ${code(OP.generateOwned)} then -- generate with an owner
    local value, expiry = ARGV[a], ARGV[a + 1]
    r = redis.pcall('SET', key, stamp(expiry) .. '@' .. ARGV[a + 2] .. '@' .. stamp(2 * tonumber(expiry)) .. value, 'PXAT', stamp(expiry))
    a = a + 3
  elseif op == ${code(OP.peek)} then -- peek
    r = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})
  elseif op == ${code(OP.deleteOwned)} then -- delete if owned by ARGV[a]
    local head = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})
    if failed(head) then
      r = head
    elseif head ~= '' and owner_of(head) == ARGV[a] then
      r = redis.pcall('DEL', key)
    else
      r = 0
    end
    a = a + 1
  elseif op == ${code(OP.ownerAdd)} then -- owner set, add
    r = redis.pcall('ZADD', key, now, ARGV[a])
    if not failed(r) then
      extend(key, ARGV[a + 1])
      if ARGV[a + 2] == '1' then r = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES') end
    end
    a = a + 3
  elseif op == ${code(OP.ownerExtend)} then -- owner set, make sure of a member and extend
    r = redis.pcall('ZADD', key, 'NX', now, ARGV[a])
    if not failed(r) then extend(key, ARGV[a + 1]) end
    a = a + 2
  elseif op == ${code(OP.ownerList)} then -- owner set, list
    r = redis.pcall('ZRANGE', key, 0, -1, 'WITHSCORES')
  elseif op == ${code(OP.ownerRemove)} then -- owner set, remove
    local n = tonumber(ARGV[a])
    r = 0
    -- In chunks: unpack() of thousands of members would overflow Lua's stack.
    for from = a + 1, a + n, 512 do
      local to = math.min(from + 511, a + n)
      local removed = redis.pcall('ZREM', key, unpack(ARGV, from, to))
      if failed(removed) then r = removed break end
      r = r + removed
    end
    a = a + 1 + n
  else
    return redis.error_reply('ERR sessionkit batch: unknown operation ' .. tostring(op))
  end
  out[i + 1] = r
end
return out
`;

/** SHA-1 of {@link BATCH_SCRIPT}, for EVALSHA. */
export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
