import { createHash } from 'node:crypto';
import { digestKey } from '../../core/keys.js';

/**
 * How a session is stored: one Redis string per session, whose TTL is the
 * session's expiry. The string starts with that same expiry instant (Redis
 * server time, in milliseconds since the epoch, as decimal digits), then holds
 * nothing for a session without a value ("not set") or `=` followed by the
 * value. So one GET tells the three states apart and gives the seconds left
 * without a second command, and compare-and-set compares what follows the
 * digits.
 *
 * A session made with an owner has an owner head between the instant and the
 * value: `@` + the owner's tag (see {@link ownerTag}) + `@` + the instant (same
 * clock) up to which its owner's set is known to live ("covered"). Neither part
 * holds `=`, so the first `=` still starts the value, and strings written
 * before owners existed read as they always did.
 */
export const VALUE_MARKER = '=';

/** Encodes a value for storage, without the expiry instant the script puts in front; `null` means "not set". */
export function encodeValue(value: string | null): string {
  return value === null ? '' : VALUE_MARKER + value;
}

/** A stored string, decoded: the expiry instant (server ms), the value (`null`: not set) and the owner's tag, if any. */
export interface StoredSession {
  expiresAtMs: number;
  value: string | null;
  ownerTag: string | undefined;
}

const UNOWNED_HEAD = /^\d{1,16}$/;
const OWNED_HEAD = /^(\d{1,16})@([A-Za-z0-9_-]{1,64})@\d{1,16}$/;

/** Decodes a stored string (or its first {@link HEAD_BYTES} bytes: the value may be cut); `undefined` when it is not one sessionkit wrote. */
export function decodeStored(stored: string): StoredSession | undefined {
  const marker = stored.indexOf(VALUE_MARKER);
  const head = marker === -1 ? stored : stored.slice(0, marker);
  const value = marker === -1 ? null : stored.slice(marker + 1);
  // The unowned head first: it is every session's head on the hot path.
  if (UNOWNED_HEAD.test(head)) return { expiresAtMs: Number(head), value, ownerTag: undefined };
  const owned = OWNED_HEAD.exec(head);
  if (owned === null) return undefined;
  return { expiresAtMs: Number(owned[1]), value, ownerTag: owned[2] };
}

/** Bytes of a session string that always hold its whole head (instant, owner tag, covered instant). */
export const HEAD_BYTES = 80;

/**
 * The tag of an owner: SHA-256 of the owner id, base64url, as `digestKey`
 * cuts it (40 characters). It names the owner's set (as its hash tag) and
 * marks the owner's sessions, so no owner id is stored in Redis.
 */
export function ownerTag(owner: string): string {
  return digestKey(owner);
}

/**
 * How much longer than a session's expiry its owner's set is made to live,
 * in milliseconds. A session's string records the owner set as covered up to
 * twice the session's expiry, counted by the session's node when it writes;
 * the owner's node extended the set to twice that expiry plus this margin
 * just before. The margin absorbs the time between the two writes (clocks of
 * different nodes never enter: each side counts its own time).
 */
export const OWNER_SET_MARGIN_MS = 60_000;

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
  if op == 103 then -- g: get
    r = redis.pcall('GET', key)
  elseif op == 110 then -- n: generate
    r = redis.pcall('SET', key, stamp(ARGV[a + 1]) .. ARGV[a], 'PXAT', stamp(ARGV[a + 1]))
    a = a + 2
  elseif op == 115 or op == 83 then -- s / S: set, only an existing key
    r = set(key, ARGV[a], ARGV[a + 1], op == 83)
    a = a + 2
  elseif op == 99 then -- c: clear
    r = redis.pcall('DEL', key)
  elseif op == 120 or op == 88 then -- x / X: compare-and-set
    r = cas(key, ARGV[a], ARGV[a + 1], ARGV[a + 2], op == 88)
    a = a + 3
  elseif op == 111 then -- o: generate with an owner
    local value, expiry = ARGV[a], ARGV[a + 1]
    r = redis.pcall('SET', key, stamp(expiry) .. '@' .. ARGV[a + 2] .. '@' .. stamp(2 * tonumber(expiry)) .. value, 'PXAT', stamp(expiry))
    a = a + 3
  elseif op == 112 then -- p: peek
    r = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})
  elseif op == 100 then -- d: delete if owned by ARGV[a]
    local head = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})
    if failed(head) then
      r = head
    elseif head ~= '' and owner_of(head) == ARGV[a] then
      r = redis.pcall('DEL', key)
    else
      r = 0
    end
    a = a + 1
  elseif op == 97 then -- a: owner set, add
    r = redis.pcall('ZADD', key, now, ARGV[a])
    if not failed(r) then
      extend(key, ARGV[a + 1])
      if ARGV[a + 2] == '1' then r = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES') end
    end
    a = a + 3
  elseif op == 101 then -- e: owner set, make sure of a member and extend
    r = redis.pcall('ZADD', key, 'NX', now, ARGV[a])
    if not failed(r) then extend(key, ARGV[a + 1]) end
    a = a + 2
  elseif op == 108 then -- l: owner set, list
    r = redis.pcall('ZRANGE', key, 0, -1, 'WITHSCORES')
  elseif op == 114 then -- r: owner set, remove
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
