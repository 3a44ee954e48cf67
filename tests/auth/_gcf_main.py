"""functions-framework's source for the auth tests: the router of ``_auth_apps`` as ``function``."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _auth_apps import router

from veba_sdk.adapters.gcf import function as make_function

function = make_function(router, "function")
