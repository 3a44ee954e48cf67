"""Entry module for functions-framework: ``--target function --signature-type cloudevent``."""

from handler import router

from veba_sdk.adapters.gcf import function

function = function(router, "function")
