-- wrk script: POST intake bodies, each with a fresh identity (or one replayed identity with REPLAY=1).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid or 1
  path = args[1] or "/api/v1/requests"
  service = args[2] or "bench"
  office = args[3] or "bench"
  forwarded = args[4]
  math.randomseed(os.time() + thread_id * 7919)
  prefix = string.format("W%02d%06d", thread_id, math.random(0, 999999))
  -- a family name of this thread's own, then a birth date per submission: one person each
  tag = ""
  for _ = 1, 6 do tag = tag .. string.char(97 + math.random(0, 25)) end
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"service":"%s","offices":["%s"],"identity":{"document_type":"passport","document_number":"%s%08d",' ..
    '"family_name":"Diallo%s","given_names":"Aicha","birth_date":"%04d-%02d-%02d"},' ..
    '"contact":{"email":"a@example.org"},"language":"fr"}', service, office, prefix, counter,
    -- a person of their own each time (one name and birth date would be one person: 409 duplicate_person)
    tag, 1930 + math.floor(counter / 336) % 80, 1 + math.floor(counter / 28) % 12,
    1 + counter % 28)
  local headers = {["Content-Type"] = "application/json"}
  if forwarded then headers["X-Forwarded-For"] = forwarded .. tostring(counter % 4) end
  return wrk.format("POST", path, headers, body)
end

server_errors = 0
rejected = 0

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  if status == 429 then rejected = rejected + 1 end
end

function done(summary, latency, requests)
  local fivexx, too_many = 0, 0
  for _, thread in ipairs(threads) do
    fivexx = fivexx + thread:get("server_errors")
    too_many = too_many + thread:get("rejected")
  end
  io.write(string.format("JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p95_us\": %d, " ..
    "\"p99_us\": %d, \"status_5xx\": %d, \"status_429\": %d, \"errors_connect\": %d, \"errors_timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    fivexx, too_many, summary.errors.connect, summary.errors.timeout))
end
