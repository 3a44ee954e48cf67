"""Entry module for Knative: the router as an ASGI app (``uvicorn main:app``)."""

from handler import router

from veba_sdk.adapters.knative import asgi

app = asgi(router)
