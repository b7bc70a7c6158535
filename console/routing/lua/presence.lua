-- ARGV: prefix, agent ids (none: every agent known since Redis started, the keys of
-- `status`). For each agent, six values: its id, the status it set (nil if none), whether a
-- socket of it is connected (1/0), its load, and its max_chats and languages (nil if
-- unknown). One command whatever the team's size: a pipeline of four commands per agent cost
-- the hub more (redis-py packs and parses each) than everything else in a queue update.
local p = ARGV[1]
local ids = {}
if #ARGV == 1 then
  ids = redis.call('HKEYS', p .. 'status')
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local out = {}
for _, a in ipairs(ids) do
  local h = redis.call('HMGET', p .. 'agent:' .. a, 'max', 'langs')
  out[#out + 1] = a
  out[#out + 1] = redis.call('HGET', p .. 'status', a)
  out[#out + 1] = redis.call('SISMEMBER', p .. 'online', a)
  out[#out + 1] = redis.call('SCARD', p .. 'load:' .. a)
  out[#out + 1] = h[1]
  out[#out + 1] = h[2]
end
return out
