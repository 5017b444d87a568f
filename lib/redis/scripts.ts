/*
 * The Lua scripts. Each runs atomically on the server that holds its keys (one hash slot: every key of a
 * primitive carries its name as hash tag), reads the time from the server (`TIME`), never from a client,
 * and publishes what waiters need to learn in the same step that changed the state, so no state change
 * can happen without its message. The keys and why each script is safe are in redis-event.ts and
 * redis-semaphore.ts, which use them.
 */
import { script } from './client.js';

/**
 * Event `set()`. KEYS[1]: the event's hash `{ e: epoch, g: generation }`; ARGV[1]: an epoch for a hash
 * made anew. Odd generations are set, even ones clear; setting a clear event moves it to the next
 * generation and publishes `epoch generation` on the channel named like the key. Returns the state after.
 */
export const SET = /*#__PURE__*/ script(`
local e, g = unpack(redis.call('HMGET', KEYS[1], 'e', 'g'))
if not e then e = ARGV[1]; g = 0 end
g = tonumber(g)
if g % 2 == 0 then
  g = g + 1
  redis.call('HSET', KEYS[1], 'e', e, 'g', g)
  redis.call('PUBLISH', KEYS[1], e .. ' ' .. g)
end
return { e, g }
`);

/** Event `clear()`: a set event moves to the next (even) generation. Publishes nothing. */
export const CLEAR = /*#__PURE__*/ script(`
local g = tonumber(redis.call('HGET', KEYS[1], 'g') or '0')
if g % 2 == 1 then redis.call('HSET', KEYS[1], 'g', g + 1) end
return g
`);

/** Event state: `{ epoch or false, generation }` (a missing hash reads as no epoch, generation 0). */
export const READ = /*#__PURE__*/ script(`
local e, g = unpack(redis.call('HMGET', KEYS[1], 'e', 'g'))
return { e, tonumber(g or '0') }
`);

/**
 * Everything a process asks of a lock or semaphore, in one step: give up places and leases, say it is
 * alive, extend leases, join the line, try at once; then hand free permits to the head of the line.
 *
 * KEYS: 1 meta hash `{ seq, token }` (no expiry: tokens only grow), 2 holders (zset id -> lease end,
 * server ms), 3 tokens (hash id -> token), 4 line (zset id -> ticket), 5 live processes (zset pid ->
 * liveness end). Keys 2-5 expire a second after the last lease or liveness they hold.
 *
 * ARGV: permits, pid, liveness ms, then four counted lists of ids (`pid:h.n:lease`): drops (leave the line;
 * give back the permit if held), holds (extend), waits (join the line unless in it or holding; a holding
 * one is extended: the claim of a grant), then free permits go to the head of the line, then tries (take
 * a permit if one is free and nobody is in line, else nothing).
 *
 * Returns `{ wake, drops..., holds..., waits..., tries... }`: `wake` the ms until the first lease ends
 * while anyone is in line (-1 otherwise); for a drop 1 if it held a permit; for a hold 1 if extended;
 * for a wait or a try its token if it holds a permit now, else 0.
 */
export const SYNC = /*#__PURE__*/ script(`
local M, H, T, Q, A = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local permits, pid, live = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local micros = tonumber(time[1]) * 1000000 + tonumber(time[2])

local function lease(id) return tonumber(string.match(id, '(%d+)$')) end
local function owner(id) return string.match(id, '^[^:]+') end
local function fmt(n) return string.format('%d', n) end

-- Leases that ran out, and processes that stopped saying they are alive, are gone.
-- In slices: Lua unpacks no more than about 8,000 values at once (a fleet of holders may die together).
local dead = redis.call('ZRANGEBYSCORE', H, '-inf', now)
redis.call('ZREMRANGEBYSCORE', H, '-inf', now)
for j = 1, #dead, 1000 do redis.call('HDEL', T, unpack(dead, j, math.min(j + 999, #dead))) end
redis.call('ZREMRANGEBYSCORE', A, '-inf', now)
-- Another client of the process may ask with a shorter lease: it never cuts the liveness short.
redis.call('ZADD', A, math.max(now + live, tonumber(redis.call('ZSCORE', A, pid) or '0')), pid)

local out = { -1 }
local i = 4
local function list(fn)
  local n = tonumber(ARGV[i]); i = i + 1
  for j = i, i + n - 1 do out[#out + 1] = fn(ARGV[j]) end
  i = i + n
end
local function holds(id) return redis.call('ZSCORE', H, id) ~= false end
local function token(id) return tonumber(redis.call('HGET', T, id)) end

-- Strictly increasing, fleet-wide; never below the server's clock in microseconds, so a server that
-- lost the counter (a restart without persistence, a failover to a replica behind) still goes up.
local function next_token()
  local t = math.max(tonumber(redis.call('HGET', M, 'token') or '0') + 1, micros)
  redis.call('HSET', M, 'token', fmt(t))
  return t
end

local function grant()
  local msg = {}
  while redis.call('ZCARD', H) < permits do
    local head = redis.call('ZRANGE', Q, 0, 0)[1]
    if not head then break end
    redis.call('ZREM', Q, head)
    if tonumber(redis.call('ZSCORE', A, owner(head)) or '0') > now then
      local t = next_token()
      redis.call('ZADD', H, now + lease(head), head)
      redis.call('HSET', T, head, fmt(t))
      msg[#msg + 1] = head .. ' ' .. fmt(t)
    end
  end
  if #msg > 0 then redis.call('PUBLISH', M, table.concat(msg, ' ')) end
end

list(function(id)
  redis.call('ZREM', Q, id)
  if redis.call('ZREM', H, id) == 1 then
    redis.call('HDEL', T, id)
    return 1
  end
  return 0
end)
list(function(id)
  if not holds(id) then return 0 end
  redis.call('ZADD', H, now + lease(id), id)
  return 1
end)
local waits = {}
list(function(id)
  if holds(id) then
    redis.call('ZADD', H, now + lease(id), id)
  elseif not redis.call('ZSCORE', Q, id) then
    redis.call('ZADD', Q, redis.call('HINCRBY', M, 'seq', 1), id)
  end
  waits[#waits + 1] = #out + 1
  return id
end)
grant()
list(function(id)
  if redis.call('ZCARD', Q) == 0 and redis.call('ZCARD', H) < permits and not holds(id) then
    local t = next_token()
    redis.call('ZADD', H, now + lease(id), id)
    redis.call('HSET', T, id, fmt(t))
  end
  return holds(id) and token(id) or 0
end)
for _, k in ipairs(waits) do
  local id = out[k]
  out[k] = holds(id) and token(id) or 0
end

if redis.call('ZCARD', Q) > 0 then
  local first = redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')[2]
  if first then out[1] = tonumber(first) - now end
end
local last = now
for _, z in ipairs({ H, A }) do
  local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')[2]
  if top then last = math.max(last, tonumber(top)) end
end
for _, k in ipairs({ H, T, Q, A }) do redis.call('PEXPIRE', k, last - now + 1000) end
return out
`);
