"""The vSphere event catalogue as data, for code that walks it (the CLI, the testing kit, docs).

The tables are generated (``_catalogue.py``, by ``scripts/generate_events.py`` from pyvmomi);
this module is their public name:

* :data:`EVENTS`: every event class by wire name, ``(parent, since, own fields)``;
* :data:`ARGUMENTS`: the argument types event fields use (``HostEventArgument``,
  ``ChangesInfoEventArgument`` ...) by wire name, in the same shape;
* :func:`all_fields`: a class's field rows with the inherited ones first, as govmomi flattens
  them. Each row is a :data:`Field`: ``(python name, PascalCase wire name, lowerCamel wire name,
  kind, optional, since)``.
"""

from __future__ import annotations

from ._catalogue import ARGUMENTS, EVENTS, Field
from ._models import all_fields

__all__ = ["ARGUMENTS", "EVENTS", "Field", "all_fields"]
