-- wrk script: binary-mode VSphereSource CloudEvents (EnteredMaintenanceModeEvent), POSTed the
-- way VEBA's vSphere source delivers them.
--
--   wrk -t1 -c32 -d10s -s cloudevent.lua http://127.0.0.1:8080/ -- BODY_FILE
--
-- BODY_FILE is the event data (JSON). The request is static (built once), so wrk spends no
-- Lua time per request. done() prints one line "WRK_JSON {...}" that run.py parses.

function init(args)
   local path = args[1]
   if path == nil then
      error("usage: wrk -s cloudevent.lua URL -- BODY_FILE")
   end
   local file = assert(io.open(path, "rb"))
   wrk.body = file:read("*a")
   file:close()
   wrk.method = "POST"
   wrk.headers["ce-specversion"] = "1.0"
   wrk.headers["ce-id"] = "910093"
   wrk.headers["ce-source"] = "https://vcenter.local/sdk"
   wrk.headers["ce-type"] = "com.vmware.vsphere.EnteredMaintenanceModeEvent.v0"
   wrk.headers["ce-time"] = "2022-04-20T15:47:32.365Z"
   wrk.headers["ce-eventclass"] = "event"
   wrk.headers["ce-vsphereapiversion"] = "8.0.3.0"
   wrk.headers["Content-Type"] = "application/json"
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
