-- KEYS: none (tenant-scoped names are built from ARGV[1]; Charla uses one Redis, not a cluster)
-- ARGV: prefix, now_ms, overflow_after_ms (0 = never), max assignments
local p = ARGV[1]
local now = tonumber(ARGV[2])
local overflow = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local agents = redis.call('SMEMBERS', p .. 'online')
if #agents == 0 then return {} end
local st = {}
for _, a in ipairs(agents) do
  local h = redis.call('HMGET', p .. 'agent:' .. a, 'max', 'langs', 'since')
  st[a] = {max = tonumber(h[1]) or 0, langs = h[2] or '', since = tonumber(h[3]) or 0,
           load = redis.call('SCARD', p .. 'load:' .. a)}
end
local queue = redis.call('ZRANGE', p .. 'queue', 0, -1)
local out = {}
local function better(a, b)
  if b == nil then return true end
  if st[a].load ~= st[b].load then return st[a].load < st[b].load end
  if st[a].since ~= st[b].since then return st[a].since < st[b].since end
  return a < b
end
for _, chat in ipairs(queue) do
  if #out >= limit * 3 then break end
  local m = redis.call('HMGET', p .. 'qmeta:' .. chat, 'lang', 'since', 'exclude')
  local lang = m[1] or ''
  local waited = now - (tonumber(m[2]) or now)
  local exclude = m[3] or ''
  local best = nil
  local crossed = 0
  for _, a in ipairs(agents) do
    local s = st[a]
    if s.load < s.max and a ~= exclude
       and string.find(s.langs, ',' .. lang .. ',', 1, true) and better(a, best) then
      best = a
    end
  end
  if best == nil and overflow > 0 and waited >= overflow then
    for _, a in ipairs(agents) do
      local s = st[a]
      if s.load < s.max and a ~= exclude and better(a, best) then best = a end
    end
    if best ~= nil then crossed = 1 end
  end
  if best ~= nil then
    redis.call('ZREM', p .. 'queue', chat)
    redis.call('DEL', p .. 'qmeta:' .. chat)
    redis.call('SADD', p .. 'load:' .. best, chat)
    redis.call('HSET', p .. 'agent:' .. best, 'since', now)
    st[best].load = st[best].load + 1
    st[best].since = now
    table.insert(out, chat)
    table.insert(out, best)
    table.insert(out, crossed)
  end
end
return out
