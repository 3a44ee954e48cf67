-- wrk script: binary-mode VSphereSource CloudEvents, each request a different vCenter event
-- (its Key, in the data and as ce-id), so an idempotency store claims and completes every one
-- instead of answering duplicates.
--
--   wrk -t1 -c32 -d10s -s idempotency.lua http://127.0.0.1:8080/ -- BODY_FILE FIRST_KEY
--
-- BODY_FILE is the event data (JSON) with the placeholder __KEY__ where the Key goes; keys
-- count up from FIRST_KEY. done() prints the "WRK_JSON {...}" line run.py parses.

local template
local key

function init(args)
   local path, first = args[1], args[2]
   if path == nil or first == nil then
      error("usage: wrk -s idempotency.lua URL -- BODY_FILE FIRST_KEY")
   end
   local file = assert(io.open(path, "rb"))
   template = file:read("*a")
   file:close()
   key = tonumber(first)
   wrk.method = "POST"
   wrk.headers["ce-specversion"] = "1.0"
   wrk.headers["ce-source"] = "https://vcenter.local/sdk"
   wrk.headers["ce-type"] = "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
   wrk.headers["ce-time"] = "2022-04-20T15:47:32.365Z"
   wrk.headers["ce-eventclass"] = "event"
   wrk.headers["ce-vsphereapiversion"] = "8.0.3.0"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   key = key + 1
   local id = tostring(key)
   wrk.headers["ce-id"] = id
   return wrk.format(nil, nil, nil, (template:gsub("__KEY__", id)))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
      '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
      '"p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
      e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
