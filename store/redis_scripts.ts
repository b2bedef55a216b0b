/**
 * The Lua scripts of the Redis store. Each runs atomically in Redis, so a write is all or
 * nothing, and a read is one consistent view, whatever other instances do meanwhile.
 *
 * The board's keys, passed as KEYS[1..6] to every script that touches the board (BOARD_KEYS):
 *   1 version   the global counter (a decimal string)
 *   2 horizon   versions below it may have lost a tombstone: such cursors get a snapshot
 *   3 games     hash: id → the game's JSON, live games only
 *   4 versions  sorted set: id → version of the game's latest change, tombstones included
 *   5 removed   sorted set: id → removedAt (ms), tombstones only, for expiry
 *   6 stream    the change stream, one entry per version, entry ID "<version>-0", bounded MAXLEN
 *
 * Numbers: Redis runs Lua 5.1, whose numbers are doubles. Versions (about 1.8e15) are exact
 * below 2^53, but `tostring` would print them as "1.8e+15", so every version leaves a script
 * through `int()` and is compared with `tonumber()`, never as text. cjson is not used for the
 * same reason. Every script starts with `#!lua`: Redis 7 then refuses a script that could write
 * while it is out of memory, before the script runs, instead of failing half-way.
 */

const PRELUDE = `#!lua
local function int(n) return string.format('%.0f', n) end

-- The counter, seeded when it is missing (a fresh Redis, or one that lost its data) or behind
-- \`seen\`, the newest version the calling instance has seen (a failover to a replica that lagged),
-- above everything still stored and above \`seed\` (the clock in microseconds, and above \`seen\`),
-- so that a version never repeats. The horizon moves up with it: a cursor from before the
-- seeding cannot be trusted.
local function current_version(seed, seen)
  local v = redis.call('GET', KEYS[1])
  if v and tonumber(v) >= tonumber(seen) then return tonumber(v) end
  local floor = tonumber(seed)
  local top = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if top[2] then floor = math.max(floor, tonumber(top[2])) end
  local h = redis.call('GET', KEYS[2])
  if h then floor = math.max(floor, tonumber(h)) end
  local last = redis.call('XREVRANGE', KEYS[6], '+', '-', 'COUNT', 1)
  if last[1] then floor = math.max(floor, tonumber(string.match(last[1][1], '^(%d+)'))) end
  redis.call('SET', KEYS[1], int(floor))
  redis.call('SET', KEYS[2], int(floor))
  return floor
end
`;

/**
 * The current version (seeding it when missing). ARGV: seed, seen.
 * Returns the version as a decimal string.
 */
export const VERSION_SCRIPT = `${PRELUDE}
return int(current_version(ARGV[1], ARGV[2]))
`;

/**
 * "Since cursor" in one consistent read, by the rule of Board.resume.
 * ARGV: 1 cursor ('' for none), 2 scope ('' for all games), 3 seed, 4 seen.
 * Returns {'snapshot', version, {game JSON...}} or {'changes', version, {change...}} with each
 * change 'u<game JSON>' or 'r<version> <removedAt> <id>', in ascending version order.
 */
export const RESUME_SCRIPT = `${PRELUDE}
local v = current_version(ARGV[3], ARGV[4])
local h = tonumber(redis.call('GET', KEYS[2]) or '0')
local cursor, scope = tonumber(ARGV[1]), ARGV[2]
if cursor == nil or cursor > v or cursor < h then
  if scope == '' then return {'snapshot', int(v), redis.call('HVALS', KEYS[3])} end
  local g = redis.call('HGET', KEYS[3], scope)
  if g then return {'snapshot', int(v), {g}} end
  return {'snapshot', int(v), {}}
end
local out = {}
local function add(id, version)
  local g = redis.call('HGET', KEYS[3], id)
  if g then
    out[#out + 1] = 'u' .. g
  else
    local at = redis.call('ZSCORE', KEYS[5], id) or '0'
    out[#out + 1] = 'r' .. int(tonumber(version)) .. ' ' .. int(tonumber(at)) .. ' ' .. id
  end
end
if scope ~= '' then
  local s = redis.call('ZSCORE', KEYS[4], scope)
  if s and tonumber(s) > cursor then add(scope, s) end
elseif cursor < v then
  local rows = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #rows, 2 do add(rows[i], rows[i + 1]) end
end
return {'changes', int(v), out}
`;

/**
 * One write, all or nothing. KEYS[7]: the game's turn mark. KEYS[8], KEYS[9] (only with an
 * Idempotency-Key): the record (hash fp, outcome, at) and the in-progress marker.
 * ARGV: 1 id, 2 the version the decision was made on (0: the game did not exist), 3 op (put,
 *   delete or reject; a write that changes nothing is recorded as a reject is), 4 put: the game's
 *   JSON up to its version ('{"id":...,"away":{...}', events added by this change with
 *   `"version":0,`), reject: the outcome JSON, 5 put: 'created' or 'saved', 6 updatedAt, 7 now (ms), 8 seed,
 *   9 stream MAXLEN, 10 fingerprint, 11 record TTL (ms), 12 tombstone TTL (ms), 13 id as JSON,
 *   14 this instance's token, 15 turn TTL (ms), 16 seen.
 * Returns {'replay', fingerprint, outcome}: the key was already used (nothing done);
 *   {'wait'}: another instance has the turn on this game (nothing done);
 *   {'conflict', game JSON or false}: the game changed since the decision (nothing done);
 *   {'recorded'}: a rejection, recorded under its key; {'committed', version}.
 *
 * Turns keep two instances that write one game flat out from starving one of them: the one
 * whose reply comes back first would otherwise always win the next race. An instance that lost
 * (a conflict) takes the game's turn for a moment, and the others wait until it has committed.
 */
export const WRITE_SCRIPT = `${PRELUDE}
local id, now, me = ARGV[1], tonumber(ARGV[7]), ARGV[14]
local idempotent = KEYS[8] ~= nil
if idempotent then
  local rec = redis.call('HMGET', KEYS[8], 'fp', 'outcome', 'at')
  if rec[1] and tonumber(rec[3]) >= now - tonumber(ARGV[11]) then
    return {'replay', rec[1], rec[2]}
  end
end
local turn = redis.call('GET', KEYS[7])
if turn and turn ~= me then return {'wait'} end
local cur = redis.call('HGET', KEYS[3], id)
local curv = 0
if cur then curv = tonumber(redis.call('ZSCORE', KEYS[4], id)) end
if curv ~= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[7], me, 'PX', ARGV[15])
  return {'conflict', cur}
end
if turn then redis.call('DEL', KEYS[7]) end

local function record(outcome)
  if not idempotent then return end
  redis.call('HSET', KEYS[8], 'fp', ARGV[10], 'outcome', outcome, 'at', ARGV[7])
  redis.call('PEXPIRE', KEYS[8], ARGV[11])
  redis.call('DEL', KEYS[9])
end
if ARGV[3] == 'reject' then
  record(ARGV[4])
  return {'recorded'}
end

local v = current_version(ARGV[8], ARGV[16]) + 1
if v >= 9007199254740992 then return redis.error_reply('the version counter passed 2^53') end
local vs = int(v)
-- The stream entry first: it is the only command that can fail (an ID not above the last),
-- and if it does, nothing else has been written.
local outcome
if ARGV[3] == 'put' then
  -- Events added by this change carry the placeholder version 0 (PENDING_VERSION): the version
  -- is only known here. A JSON string cannot hold an unescaped quote, so the key cannot be text.
  local body = string.gsub(ARGV[4], '"version":0,', '"version":' .. vs .. ',')
  local game = body .. ',"version":' .. vs .. ',"updatedAt":"' .. ARGV[6] .. '"}'
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], vs .. '-0', 'g', game)
  redis.call('HSET', KEYS[3], id, game)
  redis.call('ZREM', KEYS[5], id)
  outcome = '{"kind":"' .. ARGV[5] .. '","game":' .. game .. '}'
else
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], vs .. '-0', 'r', id, 't', ARGV[7])
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZADD', KEYS[5], ARGV[7], id)
  outcome = '{"kind":"deleted","id":' .. ARGV[13] .. ',"version":' .. vs .. '}'
end
redis.call('ZADD', KEYS[4], vs, id)
redis.call('SET', KEYS[1], vs)
record(outcome)

-- Forget tombstones past their TTL (a few per write), raising the horizon past them.
local cutoff = int(now - tonumber(ARGV[12]))
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. cutoff, 'LIMIT', 0, 100)
if #expired > 0 then
  local h = tonumber(redis.call('GET', KEYS[2]) or '0')
  for _, gone in ipairs(expired) do
    local gv = tonumber(redis.call('ZSCORE', KEYS[4], gone) or '0')
    if gv > h then h = gv end
    redis.call('ZREM', KEYS[4], gone)
    redis.call('ZREM', KEYS[5], gone)
  end
  redis.call('SET', KEYS[2], int(h))
end
return {'committed', vs}
`;

/**
 * Looks up an Idempotency-Key and, when it is unused, marks it in progress for `claim TTL` ms,
 * so a second instance answers 409 too, and a crashed instance's mark expires by itself.
 * KEYS: 1 record, 2 in-progress marker. ARGV: 1 fingerprint, 2 oldest valid record time (ms),
 * 3 claim TTL (ms). Returns {'replay', outcome}, {'mismatch'}, {'in_progress'} or {'new'}.
 */
export const CLAIM_SCRIPT = `#!lua
local rec = redis.call('HMGET', KEYS[1], 'fp', 'outcome', 'at')
if rec[1] and tonumber(rec[3]) >= tonumber(ARGV[2]) then
  if rec[1] == ARGV[1] then return {'replay', rec[2]} end
  return {'mismatch'}
end
local running = redis.call('GET', KEYS[2])
if running then
  if running == ARGV[1] then return {'in_progress'} end
  return {'mismatch'}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {'new'}
`;
