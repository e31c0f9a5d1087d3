import { createHash } from 'node:crypto';
import { HEAD_BYTES, WRITE_TOKENS_KEPT } from './stored-value.js';

/** One operation of the batch script: its one-character code, the names of its arguments in ARGV order, and its Lua. */
interface Operation {
  readonly code: string;
  /** The arguments it takes from ARGV, in order; the Lua reads them under these names. */
  readonly args: readonly string[];
  /** When true, the first argument is a count of further arguments that follow the declared ones. */
  readonly variadic?: true;
  /** What it does, in Lua, with its arguments in scope under their names (`a`: the index of the first); sets `r`, its answer. */
  readonly body: string;
}

/**
 * The batch script's operations: code, arguments, and what each does. The
 * Lua below is written from this table (each branch's argument names, and the
 * one place the argument cursor advances), and every operation queued is
 * checked against it ({@link assertArguments}), so an operation that takes
 * one argument more or less than the script reads cannot ship.
 *
 * Writes that carry a `token` (generate, set, compare-and-set, generate
 * owned) first look for that token in the session's head: found, the write
 * already landed (a resend after a lost reply) and answers as it did, writing
 * nothing. Not found and past the batch's fence (ARGV[2], Redis time), the
 * write answers `late` and writes nothing, so a write never lands after its
 * caller's deadline; a clear past the fence answers `late` while the key
 * still exists.
 */
export const OPERATIONS = {
  /** get: answers the stored string, or nil. */
  get: { code: 'g', args: [], body: `r = redis.pcall('GET', key)` },
  /** generate, and put: creates or replaces (a plain SET), leaving no owner head. */
  generate: { code: 'n', args: ['value', 'expiry', 'token'], body: `r = create(key, '', value, expiry, token)` },
  /** set: never creates a key. On an owned session past its owner set's cover, writes nothing and answers `@` + owner tag. */
  set: { code: 's', args: ['value', 'expiry', 'token'], body: `r = set(key, value, expiry, token, false)` },
  /** clear. */
  clear: { code: 'c', args: [], body: `if late and redis.call('EXISTS', key) == 1 then r = 'late' else r = redis.pcall('DEL', key) end` },
  /** compare-and-set: answers 'ok', 'conflict', 'NotFound', 'late', or (owned, past cover, nothing written) `@` + owner tag. */
  compareAndSet: { code: 'x', args: ['expected', 'value', 'expiry', 'token'], body: `r = cas(key, expected, value, expiry, token, false)` },
  /** generate with an owner: records the owner set as covered for twice the expiry. */
  generateOwned: { code: 'o', args: ['value', 'expiry', 'tag', 'token'], body: `r = create(key, '@' .. tag .. '@' .. stamp(2 * tonumber(expiry)), value, expiry, token)` },
  /** set after the owner set was extended: as `set`, but records a new cover of twice the expiry. */
  setCovered: { code: 'S', args: ['value', 'expiry', 'token'], body: `r = set(key, value, expiry, token, true)` },
  /** compare-and-set after the owner set was extended: as `compareAndSet`, but records a new cover of twice the expiry. */
  compareAndSetCovered: { code: 'X', args: ['expected', 'value', 'expiry', 'token'], body: `r = cas(key, expected, value, expiry, token, true)` },
  /** peek at a session: answers its first HEAD_BYTES bytes ('' when missing). */
  peek: { code: 'p', args: [], body: `r = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})` },
  /** delete a session if it belongs to an owner: answers 1 when a live session was deleted, else 0. */
  deleteOwned: { code: 'd', args: ['tag'], body: `
    local head = redis.pcall('GETRANGE', key, 0, ${HEAD_BYTES - 1})
    if failed(head) then
      r = head
    elseif head ~= '' and owner_of(head) == tag then
      r = redis.pcall('DEL', key)
    else
      r = 0
    end` },
  /**
   * owner set, add: ZADD scored by server time, TTL (ms) only ever extended; answers 1. With `cap`, adds only while
   * the set has fewer entries (or already holds `member`, a resend), else answers the entries (member, score, …) that
   * are not pending. With `pendingMs`, records `member` as pending (a login whose session may not be written yet) for
   * that long, in the owner's pending set (same slot).
   */
  ownerAdd: { code: 'a', args: ['member', 'ttl', 'cap', 'pendingMs'], body: `
    local pending = key .. ':pending'
    if cap ~= '' and redis.call('ZSCORE', key, member) == false and redis.call('ZCARD', key) >= tonumber(cap) then
      r = settled(key, pending)
    else
      r = redis.pcall('ZADD', key, now, member)
      if not failed(r) then
        extend(key, ttl)
        if pendingMs ~= '' then
          -- Marks: pending until +instant, or written at -instant; both forgotten after pendingMs.
          redis.call('ZREMRANGEBYSCORE', pending, 0, now)
          redis.call('ZREMRANGEBYSCORE', pending, '(' .. (tonumber(pendingMs) - now), 0)
          redis.call('ZADD', pending, now + tonumber(pendingMs), member)
          extend(pending, pendingMs)
        end
        r = 1
      end
    end` },
  /**
   * owner set, a login's session is written: `member` is no longer pending (its mark becomes "written at" for
   * `pendingMs`); with `cap`, answers the entries that are not pending when the set holds more than `cap` (else none).
   */
  ownerWritten: { code: 'w', args: ['member', 'cap', 'pendingMs'], body: `
    local pending = key .. ':pending'
    redis.call('ZADD', pending, -now, member)
    extend(pending, pendingMs)
    if cap ~= '' and redis.call('ZCARD', key) > tonumber(cap) then r = settled(key, pending) else r = {} end` },
  /**
   * owner set, remove entries found gone: `count`, `readAt` (this node's time when the caller read them, before it
   * looked at their sessions), then `count` members. A member still pending, or written at or after `readAt`, stays:
   * its session may have been written after the caller looked.
   */
  ownerTidy: { code: 't', args: ['count', 'readAt'], variadic: true, body: `
    local pending, since = key .. ':pending', tonumber(readAt)
    local gone = {}
    for i = a + 2, a + 1 + tonumber(count) do
      local mark = tonumber(redis.call('ZSCORE', pending, ARGV[i]) or '0')
      if not (mark > now or (mark < 0 and -mark >= since)) then gone[#gone + 1] = ARGV[i] end
    end
    r = 0
    for from = 1, #gone, 512 do r = r + redis.call('ZREM', key, unpack(gone, from, math.min(from + 511, #gone))) end` },
  /** owner set, make sure a member is there (ZADD NX) and extend the TTL (ms). */
  ownerExtend: { code: 'e', args: ['member', 'ttl'], body: `
    r = redis.pcall('ZADD', key, 'NX', now, member)
    if not failed(r) then extend(key, ttl) end` },
  /**
   * owner set, one page: up to `count` entries (member, score, …) after the entry (`afterScore`, `afterMember`) in
   * the set's order ('' for the first page), none scored above `cap` ('' for no cap). Entries removed meanwhile
   * never shift a page: it starts after that entry whether or not it is still there.
   */
  ownerPage: { code: 'l', args: ['afterScore', 'afterMember', 'cap', 'count'], body: `r = page(key, afterScore, afterMember, cap, tonumber(count))` },
  /** owner set, remove members: `count`, then that many members. */
  ownerRemove: { code: 'r', args: ['count'], variadic: true, body: `
    local n = tonumber(count)
    r = 0
    -- In chunks: unpack() of thousands of members would overflow Lua's stack.
    for from = a + 1, a + n, 512 do
      local to = math.min(from + 511, a + n)
      local removed = redis.pcall('ZREM', key, unpack(ARGV, from, to))
      if failed(removed) then r = removed break end
      r = r + removed
    end` },
} as const satisfies Record<string, Operation>;

/** Operation codes of the batch script, by name: one character per operation, all of them in ARGV[1]. */
export const OP = Object.fromEntries(Object.entries(OPERATIONS).map(([name, op]) => [name, op.code])) as { readonly [N in keyof typeof OPERATIONS]: (typeof OPERATIONS)[N]['code'] };

/** An operation code of {@link OP}. */
export type OpCode = (typeof OPERATIONS)[keyof typeof OPERATIONS]['code'];

const BY_CODE = new Map<string, Operation>(Object.values(OPERATIONS).map((op) => [op.code, op]));

/**
 * Throws when `args` is not what the operation `code` takes: its declared
 * count, or for a variadic one the declared count plus the count in its first
 * argument. A programming error, caught before anything is sent.
 */
export function assertArguments(code: OpCode, args: readonly string[]): void {
  const op = BY_CODE.get(code);
  if (op === undefined) throw new Error(`sessionkit batch: unknown operation ${code}`);
  const expected = op.variadic === true ? op.args.length + Number(args[0]) : op.args.length;
  if (args.length !== expected) throw new Error(`sessionkit batch: operation ${code} takes ${expected} arguments, got ${args.length}`);
}

/** The byte the script compares an operation's code with. */
function byte(op: Operation): number {
  return op.code.charCodeAt(0);
}

/** `local value, expiry = ARGV[a], ARGV[a + 1]`: the operation's arguments under their names. */
function argumentsOf(op: Operation): string {
  if (op.args.length === 0) return '';
  return `local ${op.args.join(', ')} = ${op.args.map((_, i) => (i === 0 ? 'ARGV[a]' : `ARGV[a + ${i}]`)).join(', ')}`;
}

/** Each operation's width in ARGV, by code byte; a variadic one as minus its declared count (its first argument adds the rest). */
function widthTable(): string {
  return `{ ${Object.values(OPERATIONS)
    .map((op: Operation) => `[${byte(op)}] = ${op.variadic === true ? -op.args.length : op.args.length}`)
    .join(', ')} }`;
}

/**
 * Runs a batch of session operations in one call. KEYS[i] is the key of
 * operation i; ARGV[1] holds the operations' codes, one character each;
 * ARGV[2] the fence: the Redis time (ms) after which no write of the batch
 * may land ('' for none); the arguments of the operations follow in order,
 * as {@link OPERATIONS} declares them. Before running anything the script
 * checks that the arguments add up. The reply is the server's time in
 * milliseconds, then one slot per operation; a Redis error of one operation
 * (caught with pcall) is returned in its own slot as an error reply, so the
 * other operations of the batch keep their results. The script reads the
 * clock once and sets every TTL with PXAT to the very instant it stores in
 * front of the value: EX would read the clock again (Redis 7.0 does not
 * freeze it inside a script), and the two could differ by a millisecond.
 *
 * Owner operations ('a', 'w', 't', 'e', 'l', 'r') work on an owner's sorted set, whose
 * key is KEYS[i] like any other: a batch only ever holds keys of one slot.
 * 'a', 'w' and 't' also use the owner's pending marks, KEYS[i] .. ':pending', which
 * has the same hash tag and so the same slot.
 */
export const BATCH_SCRIPT = `
local codes = ARGV[1]
local WIDTH = ${widthTable()}
local function width(op, a)
  local w = WIDTH[op]
  if w == nil then return nil end
  if w < 0 then w = -w + (tonumber(ARGV[a]) or 0) end
  return w
end
do
  local a = 3
  for i = 1, #KEYS do
    local w = width(string.byte(codes, i), a)
    if w == nil then return redis.error_reply('ERR sessionkit batch: unknown operation ' .. tostring(string.byte(codes, i))) end
    a = a + w
  end
  if #codes ~= #KEYS or a ~= #ARGV + 1 then return redis.error_reply('ERR sessionkit batch: the arguments do not match the operations') end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local late = ARGV[2] ~= '' and now > tonumber(ARGV[2])
local out = { now }
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
-- The head of a stored string (before the first '='), without copying the value, and where the value starts (nil: none).
local function head_of(s)
  local m = string.find(s, '=', 1, true)
  if m then return string.sub(s, 1, m - 1), m end
  return s, nil
end
-- True when what follows the head (from m: '=' and the value; '' without m) is expected: compared in place,
-- since a copy of the value costs more than the comparison (with equal lengths, find looks at position m only).
local function holds(s, m, expected)
  if not m then return expected == '' end
  return #s - m + 1 == #expected and string.find(s, expected, m, true) == m
end
-- The owner head of a stored string: owner tag and covered instant, or nil for a session without owner.
local function owner_of(s)
  local _, tag, covered = string.match(s, '^(%d+)@([%w_%-]+)@(%d+)')
  return tag, covered
end
-- True when a head holds the write token: that write already landed. (Tokens of one process share a
-- prefix, so a match must end where the token does.)
local function mine(head, token)
  local from = 1
  local needle = ':' .. token
  while true do
    local i, j = string.find(head, needle, from, true)
    if not i then return false end
    local after = string.byte(head, j + 1)
    if after == nil or after == 58 then return true end
    from = j + 1
  end
end
-- The write tokens of a new string: this write's, then the newest of the old head's, ${WRITE_TOKENS_KEPT} in all.
local function tokens(token, head)
  local c = string.find(head, ':', 1, true)
  if not c then return ':' .. token end
  local cut = c
  for _ = 1, ${WRITE_TOKENS_KEPT - 1} do
    cut = string.find(head, ':', cut + 1, true)
    if not cut then return ':' .. token .. string.sub(head, c) end
  end
  return ':' .. token .. string.sub(head, c, cut - 1)
end
-- Past the fence a write only looks for its token: 'OK' when it landed before, else 'late' (nil: no session).
local function landed(key, token)
  local current = redis.pcall('GET', key)
  if failed(current) or not current then return current end
  if mine(head_of(current), token) then return 'OK' end
  return 'late'
end
-- Creates or replaces a session (generate, put): owner is '' or its owner head. Sent again after a lost
-- reply, it writes the same string again: nothing to look up first.
local function create(key, owner, value, expiry, token)
  if late then
    local r = landed(key, token)
    if r == nil or r == false then return 'late' end
    return r
  end
  return redis.pcall('SET', key, stamp(expiry) .. owner .. ':' .. token .. value, 'PXAT', stamp(expiry))
end
-- Writes a live session's new value and expiry, keeping its owner head. refresh: the owner set was
-- just extended, record a new cover. Answers '@' .. tag, writing nothing, when the new expiry
-- would outlive what the owner set is known to cover.
local function write(key, head, value, expiry, token, refresh)
  local tag, covered = owner_of(head)
  -- One concatenation per string written: the value is copied once.
  if tag then
    if refresh then
      covered = stamp(2 * tonumber(expiry))
    elseif tonumber(stamp(expiry)) > tonumber(covered) then
      return '@' .. tag
    end
    return redis.pcall('SET', key, stamp(expiry) .. '@' .. tag .. '@' .. covered .. tokens(token, head) .. value, 'PXAT', stamp(expiry))
  end
  return redis.pcall('SET', key, stamp(expiry) .. tokens(token, head) .. value, 'PXAT', stamp(expiry))
end
-- One SET for a session without owner: SET XX GET writes and hands back the old string (sent again after a
-- lost reply, it writes the same value again). It keeps only its own token: carrying the earlier writes'
-- tokens would cost a second write. An owned session is then rewritten with its owner head, or, when past
-- its cover, put back as it was (the script is atomic: nobody sees the step in between).
local function set(key, value, expiry, token, refresh)
  if late then return landed(key, token) end
  local old = redis.pcall('SET', key, stamp(expiry) .. ':' .. token .. value, 'XX', 'PXAT', stamp(expiry), 'GET')
  if failed(old) or not old then return old end
  local head = head_of(old)
  if not owner_of(head) then return 'OK' end
  local r = write(key, head, value, expiry, token, refresh)
  if type(r) == 'string' then redis.call('SET', key, old, 'PXAT', string.match(old, '^%d+')) end
  return r
end
local function cas(key, expected, value, expiry, token, refresh)
  local current = redis.pcall('GET', key)
  if failed(current) then return current end
  if not current then return 'NotFound' end
  local head, m = head_of(current)
  if mine(head, token) then return 'ok' end
  if late then return 'late' end
  if not holds(current, m, expected) then return 'conflict' end
  if tonumber(expiry) <= 0 then
    redis.call('DEL', key)
    return 'ok'
  end
  local r = write(key, head, value, expiry, token, refresh)
  if failed(r) or type(r) == 'string' then return r end
  return 'ok'
end
-- An owner set lives at least ttl ms from now: PEXPIRE only when that is longer (or it had no TTL).
local function extend(key, ttl)
  local left = redis.call('PTTL', key)
  if left == -1 or (left >= 0 and left < tonumber(ttl)) then redis.call('PEXPIRE', key, ttl) end
end
-- An owner set's entries (member, score, ...) but those of logins still pending (their session may not be written yet;
-- a mark is pending until +instant, or written at -instant).
local function settled(key, pending)
  local entries, kept = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES'), {}
  for i = 1, #entries, 2 do
    local mark = redis.call('ZSCORE', pending, entries[i])
    if mark == false or tonumber(mark) <= now then
      kept[#kept + 1] = entries[i]
      kept[#kept + 1] = entries[i + 1]
    end
  end
  return kept
end
-- x <= y in byte order (Lua's own comparison follows the server's locale).
local function not_after(x, y)
  for i = 1, math.min(#x, #y) do
    local bx, by = string.byte(x, i), string.byte(y, i)
    if bx ~= by then return bx < by end
  end
  return #x <= #y
end
-- Up to count entries after (after_score, after_member) in the set's order (score, then member in byte
-- order), none scored above cap. The start is found by binary search among the entries of that score,
-- so a removed entry never shifts it: O(log n) per page.
local function page(key, after_score, after_member, cap, count)
  local start = 0
  if after_score ~= '' then
    local lo = redis.call('ZCOUNT', key, '-inf', '(' .. after_score)
    local hi = lo + redis.call('ZCOUNT', key, after_score, after_score)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if not_after(redis.call('ZRANGE', key, mid, mid)[1], after_member) then lo = mid + 1 else hi = mid end
    end
    start = lo
  end
  local entries = redis.call('ZRANGE', key, start, start + count - 1, 'WITHSCORES')
  if cap == '' then return entries end
  local limit, kept = tonumber(cap), {}
  for i = 1, #entries, 2 do
    if tonumber(entries[i + 1]) > limit then break end
    kept[i] = entries[i]
    kept[i + 1] = entries[i + 1]
  end
  return kept
end
local a = 3
for i = 1, #KEYS do
  local key = KEYS[i]
  local op = string.byte(codes, i)
  local r
  if false then
${Object.entries(OPERATIONS)
  .map(([name, op]: [string, Operation]) => `  elseif op == ${byte(op)} then -- ${name}\n    ${argumentsOf(op)}\n    ${op.body.trim()}`)
  .join('\n')}
  end
  out[i + 1] = r
  a = a + width(op, a)
end
return out
`;

/** SHA-1 of {@link BATCH_SCRIPT}, for EVALSHA. */
export const BATCH_SCRIPT_SHA = createHash('sha1').update(BATCH_SCRIPT).digest('hex');
