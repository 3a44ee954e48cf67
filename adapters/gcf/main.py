"""Entry module for functions-framework: ``--target function``.

``functions_framework.cloud_event`` registers the function as a CloudEvent function, so it is
served as one however the framework is started: with or without ``--signature-type``, and with
``FUNCTION_SIGNATURE_TYPE=http`` as ``gcloud functions deploy --trigger-http`` sets it.
"""

import functions_framework
from handler import router

from veba_sdk.adapters.gcf import function

function = functions_framework.cloud_event(function(router, "function"))
