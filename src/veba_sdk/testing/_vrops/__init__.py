"""The parts of :class:`~veba_sdk.testing.FakeVrops`, one job per module.

* :mod:`.records`: what the fake stores (resources, alerts), what it recorded, its API error;
* :mod:`.state`: the seeded state, tokens, and the JSON the API shows of it;
* :mod:`.faults`: injected failures, dropped connections and delays;
* :mod:`.endpoints`: one function per vROps endpoint, on :class:`httpx.Request`;
* :mod:`.exchange`: one request answered: counted, faulted, authenticated, routed, recorded;
* :mod:`.http`: the front ends: ``httpx.MockTransport`` in-process, ASGI for uvicorn.
"""
