-- Creates a link per request with a target no earlier request used, so the
-- server writes a new link every time instead of answering from its dedup
-- index. Arguments: run tag (keeps runs against the same data dir apart).
-- Targets look like https://example.com/bench/c/<tag>/<thread>/<n> and are
-- never contacted.

local threadCount = 0

function setup(thread)
  thread:set("threadIndex", threadCount)
  threadCount = threadCount + 1
end

local prefix
local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  prefix = '{"url":"https://example.com/bench/c/' .. args[1] .. '/' .. threadIndex .. '/'
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/links", headers, prefix .. counter .. '"}')
end
