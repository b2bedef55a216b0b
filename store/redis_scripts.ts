/**
 * The Lua scripts of the Redis store. Each runs atomically in Redis, so a write is all or
 * nothing, and a read is one consistent view, whatever other instances do meanwhile.
 *
 * The board's keys, passed as KEYS[1..8] to every script that touches the board (BOARD_KEYS):
 *   1 version   the global counter (a decimal string)
 *   2 horizon   versions below it may have lost a tombstone: such cursors get a snapshot
 *   3 games     hash: id → the game's JSON, live games only
 *   4 versions  sorted set: id → version of the game's latest change, tombstones included
 *   5 removed   sorted set: id → removedAt (ms), tombstones only, for expiry
 *   6 stream    the change stream, one entry per version, entry ID "<version>-0", bounded MAXLEN
 *   7 competitions  hash: id → the game's competition, tombstones included (a removal reaches
 *               the competition the game had), games without one absent
 *   8 competition horizon  like the horizon, for competition feeds only (Board.competitionHorizon)
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

-- A game's new state (its version is the caller's to record) with its competition \`c\` ('' for
-- none). A game created again (\`existed\` false) over its tombstone in another competition raises
-- the competition horizon: see Draft.competitionHorizon.
local function put_game(id, game, c, existed)
  local was = redis.call('HGET', KEYS[7], id) or ''
  if not existed and was ~= c then
    local removed = redis.call('ZSCORE', KEYS[4], id)
    local ch = tonumber(redis.call('GET', KEYS[8]) or '0')
    if removed and tonumber(removed) > ch then redis.call('SET', KEYS[8], int(tonumber(removed))) end
  end
  redis.call('HSET', KEYS[3], id, game)
  redis.call('ZREM', KEYS[5], id)
  if c == '' then redis.call('HDEL', KEYS[7], id) else redis.call('HSET', KEYS[7], id, c) end
end

-- A history entry for version \`vs\` (the JSON after its version; '' for none), newest first:
-- the list keeps \`max\` entries and lives \`ttl\` ms after its newest one.
local function audit(key, vs, tail, max, ttl)
  if tail == '' then return end
  redis.call('LPUSH', key, '{"version":' .. vs .. ',' .. tail)
  redis.call('LTRIM', key, 0, tonumber(max) - 1)
  redis.call('PEXPIRE', key, ttl)
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
 * "Since cursor" within a scope in one consistent read, by the rule of Board.resume.
 * ARGV: 1 cursor ('' for none), 2 scope kind ('' all games, 'game', 'games', 'competition'),
 *   3 seed, 4 seen, 5... the scope's game ids, or its competition.
 * Returns {'snapshot', version, {game JSON...}} or {'changes', version, {change...}} with each
 * change 'u<game JSON>' or 'r<version> <removedAt> <id> <competition or nothing>', in ascending
 * version order.
 */
export const RESUME_SCRIPT = `${PRELUDE}
local v = current_version(ARGV[3], ARGV[4])
local h = tonumber(redis.call('GET', KEYS[2]) or '0')
local cursor, kind = tonumber(ARGV[1]), ARGV[2]
local ids = {}
for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
if kind == 'competition' then
  h = math.max(h, tonumber(redis.call('GET', KEYS[8]) or '0'))
end
if cursor == nil or cursor > v or cursor < h then
  if kind == '' then return {'snapshot', int(v), redis.call('HVALS', KEYS[3])} end
  local out = {}
  if kind == 'competition' then
    local all = redis.call('HGETALL', KEYS[7])
    for i = 1, #all, 2 do
      if all[i + 1] == ids[1] then
        local g = redis.call('HGET', KEYS[3], all[i])
        if g then out[#out + 1] = g end
      end
    end
  elseif #ids > 0 then
    for _, g in ipairs(redis.call('HMGET', KEYS[3], unpack(ids))) do
      if g then out[#out + 1] = g end
    end
  end
  return {'snapshot', int(v), out}
end
local out = {}
local function add(id, version)
  local g = redis.call('HGET', KEYS[3], id)
  if g then
    out[#out + 1] = 'u' .. g
  else
    local at = redis.call('ZSCORE', KEYS[5], id) or '0'
    local c = redis.call('HGET', KEYS[7], id) or ''
    out[#out + 1] =
      'r' .. int(tonumber(version)) .. ' ' .. int(tonumber(at)) .. ' ' .. id .. ' ' .. c
  end
end
if kind == 'game' or kind == 'games' then
  local found = {}
  for _, id in ipairs(ids) do
    local s = redis.call('ZSCORE', KEYS[4], id)
    if s and tonumber(s) > cursor then found[#found + 1] = {id, tonumber(s)} end
  end
  table.sort(found, function(a, b) return a[2] < b[2] end)
  for _, f in ipairs(found) do add(f[1], f[2]) end
elseif cursor < v then
  local rows = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #rows, 2 do
    if kind == '' or redis.call('HGET', KEYS[7], rows[i]) == ids[1] then
      add(rows[i], rows[i + 1])
    end
  end
end
return {'changes', int(v), out}
`;

/**
 * One write, all or nothing. KEYS[9]: the game's turn mark. KEYS[10]: the game's history (a
 * list, newest first). KEYS[11], KEYS[12] (only with an Idempotency-Key): the record (hash fp,
 * outcome, at) and the in-progress marker.
 * ARGV: 1 id, 2 the version the decision was made on (0: the game did not exist), 3 op (put,
 *   delete or reject; a write that changes nothing is recorded as a reject is), 4 put: the game's
 *   JSON up to its version ('{"id":...,"away":{...}', events added by this change with
 *   `"version":0,`), reject: the outcome JSON, 5 put: 'created' or 'saved', 6 updatedAt, 7 now (ms), 8 seed,
 *   9 stream MAXLEN, 10 fingerprint, 11 record TTL (ms), 12 tombstone TTL (ms), 13 id as JSON,
 *   14 this instance's token, 15 turn TTL (ms), 16 seen, 17 put: the game's competition ('' for
 *   none), 18 the history entry's JSON after its version ('"at":...}'; '' for none), 19 entries
 *   kept per game, 20 history TTL (ms).
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
local idempotent = KEYS[11] ~= nil
if idempotent then
  local rec = redis.call('HMGET', KEYS[11], 'fp', 'outcome', 'at')
  if rec[1] and tonumber(rec[3]) >= now - tonumber(ARGV[11]) then
    return {'replay', rec[1], rec[2]}
  end
end
local turn = redis.call('GET', KEYS[9])
if turn and turn ~= me then return {'wait'} end
local cur = redis.call('HGET', KEYS[3], id)
local curv = 0
if cur then curv = tonumber(redis.call('ZSCORE', KEYS[4], id)) end
if curv ~= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[9], me, 'PX', ARGV[15])
  return {'conflict', cur}
end
if turn then redis.call('DEL', KEYS[9]) end

local function record(outcome)
  if not idempotent then return end
  redis.call('HSET', KEYS[11], 'fp', ARGV[10], 'outcome', outcome, 'at', ARGV[7])
  redis.call('PEXPIRE', KEYS[11], ARGV[11])
  redis.call('DEL', KEYS[12])
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
local was = redis.call('HGET', KEYS[7], id) or ''
if ARGV[3] == 'put' then
  -- Events added by this change carry the placeholder version 0 (PENDING_VERSION): the version
  -- is only known here. A JSON string cannot hold an unescaped quote, so the key cannot be text.
  local body = string.gsub(ARGV[4], '"version":0,', '"version":' .. vs .. ',')
  local game = body .. ',"version":' .. vs .. ',"updatedAt":"' .. ARGV[6] .. '"}'
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], vs .. '-0', 'g', game)
  put_game(id, game, ARGV[17], cur)
  outcome = '{"kind":"' .. ARGV[5] .. '","game":' .. game .. '}'
else
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], vs .. '-0', 'r', id, 't', ARGV[7], 'c', was)
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZADD', KEYS[5], ARGV[7], id)
  outcome = '{"kind":"deleted","id":' .. ARGV[13] .. ',"version":' .. vs .. '}'
end
redis.call('ZADD', KEYS[4], vs, id)
redis.call('SET', KEYS[1], vs)
record(outcome)
audit(KEYS[10], vs, ARGV[18], ARGV[19], ARGV[20])

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
    redis.call('HDEL', KEYS[7], gone)
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

/**
 * Viewer counts over every instance (core/viewers.ts). Each instance reports its open feeds by
 * scope key into a hash of its own that expires unless reported again, and is listed in a sorted
 * set by the time of its last report; the sum is over the instances listed within the TTL, so an
 * instance that stopped (crashed, cut off) drops out of the sums within the TTL. A competition's
 * games are read here too, live ones only, so that every instance counts them alike.
 * KEYS: 1 this instance's hash, 2 the set of instances, 3 games, 4 competitions.
 * ARGV: 1 now (ms), 2 TTL (ms), 3.. scope key and count, in pairs.
 * Returns {{scope key, count, ...} summed, {competition, 'id,id,...', ...}}.
 *
 * The other instances' hashes are named by the set, not declared in KEYS (like the store's other
 * scripts, this one is for one Redis, not a cluster).
 */
export const VIEWERS_SCRIPT = `#!lua
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.0f', now - ttl))
local sums, order = {}, {}
for _, instance in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local fields = redis.call('HGETALL', instance)
  for i = 1, #fields, 2 do
    local key = fields[i]
    if not sums[key] then
      sums[key] = 0
      order[#order + 1] = key
    end
    sums[key] = sums[key] + tonumber(fields[i + 1])
  end
end
local tally, wanted = {}, {}
for _, key in ipairs(order) do
  tally[#tally + 1] = key
  tally[#tally + 1] = tostring(sums[key])
  if string.sub(key, 1, 2) == 'c:' then wanted[string.sub(key, 3)] = {} end
end
if next(wanted) ~= nil then
  local all = redis.call('HGETALL', KEYS[4])
  for i = 1, #all, 2 do
    local ids = wanted[all[i + 1]]
    if ids and redis.call('HEXISTS', KEYS[3], all[i]) == 1 then ids[#ids + 1] = all[i] end
  end
end
local members = {}
for competition, ids in pairs(wanted) do
  members[#members + 1] = competition
  members[#members + 1] = table.concat(ids, ',')
end
return {tally, members}
`;

/**
 * An import, all or nothing: every game takes the next version, in order, as a put would (see
 * WRITE_SCRIPT: a game created again over its tombstone in another competition raises the
 * competition horizon). KEYS[9..]: each game's history list, in the games' order. ARGV: 1 seed,
 * 2 seen, 3 stream MAXLEN, 4 entries kept per game, 5 history TTL (ms), then four per game: id,
 * the game's JSON with a NUL byte wherever its version goes (core/import.ts importTemplate), its
 * history entry's JSON after the version ('' for none), its competition ('' for none).
 * Returns {'committed', the first game's version, a 'c' (created) or 's' (saved) per game}.
 */
export const IMPORT_SCRIPT = `${PRELUDE}
local n = (#ARGV - 5) / 4
local v = current_version(ARGV[1], ARGV[2])
if v + n >= 9007199254740992 then return redis.error_reply('the version counter passed 2^53') end
local first, kinds = v + 1, {}
for i = 1, n do
  local id, template, tail, c = ARGV[2 + 4 * i], ARGV[3 + 4 * i], ARGV[4 + 4 * i], ARGV[5 + 4 * i]
  v = v + 1
  local vs = int(v)
  local game = (string.gsub(template, '%z', vs))
  -- The first XADD is the only command that can fail (an ID not above the last); if it does,
  -- nothing has been written, and the ones after it are above it.
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[3], vs .. '-0', 'g', game)
  local cur = redis.call('HEXISTS', KEYS[3], id) == 1
  if cur then kinds[i] = 's' else kinds[i] = 'c' end
  put_game(id, game, c, cur)
  redis.call('ZADD', KEYS[4], vs, id)
  audit(KEYS[8 + i], vs, tail, ARGV[4], ARGV[5])
end
if n > 0 then redis.call('SET', KEYS[1], int(v)) end
return {'committed', int(first), table.concat(kinds)}
`;
