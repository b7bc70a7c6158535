-- ARGV: prefix, language ('' for any). 1 when an online agent speaks it, else 0.
local p = ARGV[1]
local agents = redis.call('SMEMBERS', p .. 'online')
if #agents == 0 then return 0 end
if ARGV[2] == '' then return 1 end
local wanted = ',' .. ARGV[2] .. ','
for _, a in ipairs(agents) do
  local langs = redis.call('HGET', p .. 'agent:' .. a, 'langs')
  if langs and string.find(langs, wanted, 1, true) then return 1 end
end
return 0
