"""functions-framework entry point: ``functions-framework --target handle
--signature-type cloudevent --source examples/maintenance_mode_sync/gcf_main.py``."""

from veba_sdk.adapters.gcf import function

try:
    from .handler import router
except ImportError:  # loaded by path, as functions-framework's --source does
    from examples.maintenance_mode_sync.handler import router

handle = function(router, "handle")
