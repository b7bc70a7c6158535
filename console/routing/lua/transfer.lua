-- ARGV: prefix, chat, from_agent, to_agent, now_ms -> 1 moved, 0 target full, -1 target not online
local p = ARGV[1]
if redis.call('SISMEMBER', p .. 'online', ARGV[4]) == 0 then return -1 end
local max = tonumber(redis.call('HGET', p .. 'agent:' .. ARGV[4], 'max')) or 0
if redis.call('SCARD', p .. 'load:' .. ARGV[4]) >= max then return 0 end
redis.call('SREM', p .. 'load:' .. ARGV[3], ARGV[2])
redis.call('SADD', p .. 'load:' .. ARGV[4], ARGV[2])
redis.call('HSET', p .. 'agent:' .. ARGV[4], 'since', ARGV[5])
redis.call('HSET', p .. 'agent:' .. ARGV[3], 'since', ARGV[5])
return 1
