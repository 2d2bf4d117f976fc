-- Paces GET /<code> requests to a target rate, in the manner of wrk2: after
-- each response a connection waits a random delay (exponential, so arrivals
-- are Poisson-like) before its next request. wrk's timer counts whole
-- milliseconds, so each delay is rounded up or down at random in proportion,
-- which keeps the mean delay right. The achieved rate is the target minus the
-- latency share, so the bench reports the rate wrk measured.
-- Arguments: code file, seed, mean delay per connection in milliseconds.

local threadCount = 0

function setup(thread)
  thread:set("threadIndex", threadCount)
  threadCount = threadCount + 1
end

local paths = {}
local meanDelayMs

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = "/" .. line end
  end
  math.randomseed(tonumber(args[2]) + threadIndex)
  meanDelayMs = tonumber(args[3])
end

function delay()
  local wanted = -meanDelayMs * math.log(1 - math.random())
  local whole = math.floor(wanted)
  if math.random() < wanted - whole then whole = whole + 1 end
  return whole
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
