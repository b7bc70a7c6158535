-- A supervisor hands a chat to an agent: from the queue (from_agent '') or from another agent.
-- ARGV: prefix, chat, from_agent, to_agent, now_ms
-- -> 1 handed, 0 target full, -1 target offline, -2 the chat is no longer where it was
local p = ARGV[1]
local status = redis.call('HGET', p .. 'status', ARGV[4])
if status ~= 'online' and status ~= 'away' then return -1 end
local max = tonumber(redis.call('HGET', p .. 'agent:' .. ARGV[4], 'max')) or 0
if redis.call('SCARD', p .. 'load:' .. ARGV[4]) >= max then return 0 end
if ARGV[3] == '' then
  if redis.call('ZREM', p .. 'queue', ARGV[2]) == 0 then return -2 end
  redis.call('DEL', p .. 'qmeta:' .. ARGV[2])
else
  redis.call('SREM', p .. 'load:' .. ARGV[3], ARGV[2])
  redis.call('HSET', p .. 'agent:' .. ARGV[3], 'since', ARGV[5])
end
redis.call('SADD', p .. 'load:' .. ARGV[4], ARGV[2])
redis.call('HSET', p .. 'agent:' .. ARGV[4], 'since', ARGV[5])
return 1
