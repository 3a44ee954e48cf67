"""pytest plugin for the cloudevents 2.x environment: the 1.x API under its 1.x names.

Several tests build requests with the cloudevents 1.x API (``cloudevents.http.CloudEvent``,
``cloudevents.conversion.to_binary``...) as a tool. cloudevents 2.x ships that same API as
``cloudevents.v1.*``; this plugin makes the old module names point at it, so those tests run
unchanged against veba-sdk with cloudevents 2.x installed. It does nothing under 1.x.
``scripts/test-matrix.sh`` loads it with ``-p _cloudevents_v1_api`` in the 2.x environment.
Tests of the 2.x API itself (``cloudevents.core``) are in ``tests/test_cloudevents_sdk.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

_ALIASED = ("abstract", "conversion", "exceptions", "http", "kafka", "sdk")


def _alias_v1_modules() -> None:
    if importlib.util.find_spec("cloudevents.v1") is None:
        return  # cloudevents 1.x: the names are real
    for name in _ALIASED:
        legacy = f"cloudevents.{name}"
        if legacy in sys.modules:
            continue
        try:
            sys.modules[legacy] = importlib.import_module(f"cloudevents.v1.{name}")
        except ImportError:  # not in this 2.x release
            continue
        for sub in [m for m in sys.modules if m.startswith(f"cloudevents.v1.{name}.")]:
            sys.modules.setdefault("cloudevents." + sub[len("cloudevents.v1.") :], sys.modules[sub])


_alias_v1_modules()
