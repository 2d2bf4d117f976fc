-- Requests GET /<code> with a code drawn uniformly per request from a file of
-- codes (one a line). Unlike h2load -i, where every connection replays the
-- same list in the same order, this spreads concurrent requests over the whole
-- set, so a cache sees no accidental repeats. Arguments: code file, seed.

local threadCount = 0

function setup(thread)
  thread:set("threadIndex", threadCount)
  threadCount = threadCount + 1
end

local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = "/" .. line end
  end
  math.randomseed(tonumber(args[2]) + threadIndex)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
