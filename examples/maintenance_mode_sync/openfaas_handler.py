"""OpenFaaS entry point (python3-http template: ``handler.handle(event, context)``)."""

from veba_sdk.adapters.openfaas import handler

from .handler import router

handle = handler(router)
