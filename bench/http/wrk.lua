-- wrk script: "list my tasks", the Authorization header rotating over the tokens of many users.
--   wrk ... -s wrk.lua URL -- TOKENS_FILE rest|graphql|floor
-- TOKENS_FILE: one "user_id token" per line. rest: GET with the token (the FastAPI backend);
-- graphql (or lazy): POST allTasks with the token (PostGraphile + taskauth); floor: POST allTasks with
-- condition {userId} and no token (PostGraphile with authentication off). Every request string
-- is built once in init(); each thread starts at its own place in the rotation.
-- done() prints one line: requests/s p50_ms p99_ms requests non2xx socket_errors.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs, n, i = {}, 0, 0

function init(args)
  local file, mode = args[1], args[2]
  local gql = '{"query":"{ allTasks { nodes { id title isCompleted } } }"}'
  local floor = '{"query":"query($u: UUID!) { allTasks(condition: {userId: $u}) '
             .. '{ nodes { id title isCompleted } } }","variables":{"u":"%s"}}'
  for line in io.lines(file) do
    local uid, token = line:match("^(%S+)%s+(%S+)$")
    if uid then
      local r
      if mode == "rest" then
        r = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
      elseif mode == "graphql" or mode == "lazy" then
        r = wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. token,
                                      ["Content-Type"] = "application/json" }, gql)
      elseif mode == "floor" then
        r = wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
                       string.format(floor, uid))
      else
        error("mode must be rest, graphql, lazy or floor")
      end
      n = n + 1
      reqs[n] = r
    end
  end
  if n == 0 then error("no tokens in " .. file) end
  i = (id * 97) % n
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("%.1f %.3f %.3f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
