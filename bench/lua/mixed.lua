-- Mixes redirects and creates: each request is a create with probability
-- createPercent/100, otherwise GET /<code> with a code drawn from a file (the
-- file already follows the key distribution, for example a Zipf sample).
-- Arguments: code file, run tag, createPercent, seed.

local threadCount = 0

function setup(thread)
  thread:set("threadIndex", threadCount)
  threadCount = threadCount + 1
end

local paths = {}
local prefix
local createShare
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = "/" .. line end
  end
  prefix = '{"url":"https://example.com/bench/m/' .. args[2] .. '/' .. threadIndex .. '/'
  createShare = tonumber(args[3]) / 100
  math.randomseed(tonumber(args[4]) + threadIndex)
end

function request()
  if math.random() < createShare then
    counter = counter + 1
    return wrk.format("POST", "/api/v1/links", headers, prefix .. counter .. '"}')
  end
  return wrk.format("GET", paths[math.random(#paths)])
end
