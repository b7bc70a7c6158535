-- ARGV: prefix. The queue in order, six values per chat: its id, then its language,
-- arrival, priority, visitor and what its visitor was last told (nil when unset).
local p = ARGV[1]
local out = {}
for _, chat in ipairs(redis.call('ZRANGE', p .. 'queue', 0, -1)) do
  local m = redis.call('HMGET', p .. 'qmeta:' .. chat, 'lang', 'since', 'prio', 'visitor', 'sent')
  out[#out + 1] = chat
  for i = 1, 5 do out[#out + 1] = m[i] end
end
return out
