-- wrk script for the caller-lookup load test of the admin API: each request
-- looks up a random caller (national format) of the table that
-- TestServeLoad seeded. See docs/fragments/admin-bench.md.
local dir = os.getenv("VIPGATE_BENCH_DIR") or "/tmp/vipgate-bench"
local f = assert(io.open(dir .. "/token"))
local token = f:read("*l")
f:close()
local callers = {}
for line in io.lines(dir .. "/callers") do
  callers[#callers + 1] = line
end
math.randomseed(os.time())

request = function()
  local c = callers[math.random(#callers)]
  return wrk.format("GET", "/api/v1/gates/vip/pins?caller=" .. c, { ["Authorization"] = "Bearer " .. token })
end
