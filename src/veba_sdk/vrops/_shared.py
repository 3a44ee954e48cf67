"""The process-wide clients behind ``VropsClient.shared()`` and ``AsyncVropsClient.shared()``.

A handler module must import without vROps settings (``veba manifests``, tests), so the client
is made on the first ``shared()`` call, from the environment, under a lock: one client, one
token, for every thread of the process. The async twin keeps one client per running event loop
(an ``httpx.AsyncClient``'s connections belong to the loop that opened them); a loop that is
gone takes its client with it.

``set_shared(client)`` replaces what ``shared()`` answers (the test kit's ``vrops_client``
fixture does it with a client on ``FakeVrops``); ``set_shared(None)`` forgets the client made
from the environment, so the next ``shared()`` reads the environment again.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import types
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Generic, Self, TypeVar

__all__ = ["AsyncSharing", "SharedClients", "SharedOverride", "SyncSharing", "shared_clients"]

C = TypeVar("C")


class SharedOverride:
    """The replacement :meth:`~veba_sdk.vrops.VropsClient.set_shared` made, already in effect.

    Used as a context manager, leaving the block puts back what ``shared()`` answered before;
    :meth:`restore` does the same without one.
    """

    __slots__ = ("_restore",)

    def __init__(self, restore: Callable[[], None]) -> None:
        self._restore: Callable[[], None] | None = restore

    def restore(self) -> None:
        """Put back what ``shared()`` answered before. Idempotent."""
        restore, self._restore = self._restore, None
        if restore is not None:
            restore()

    def __enter__(self) -> SharedOverride:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.restore()


def _check_options(made: Mapping[str, Any], asked: Mapping[str, Any], name: str) -> None:
    """Options given to ``shared()`` must be those the shared client was made with."""
    if asked and dict(asked) != dict(made):
        raise ValueError(
            f"{name}.shared() was first called with {sorted(made)!r} and now with "
            f"{sorted(asked)!r}: give every call the same options (or none)"
        )


class SharedClients(Generic[C]):
    """The shared client of one client class: made from the environment, or replaced.

    Args:
        name: the class name, for messages.
        make: ``cls.from_env``.
        per_loop: one client per running event loop (the async client).
        close: how to close a client made here at interpreter exit (sync only), or ``None``.
    """

    def __init__(
        self,
        name: str,
        make: Callable[..., C],
        *,
        per_loop: bool = False,
        close: Callable[[C], None] | None = None,
    ) -> None:
        self._name = name
        self._make = make
        self._per_loop = per_loop
        self._close = close
        self._lock = threading.Lock()
        self._override: C | None = None
        self._made: tuple[C, dict[str, Any]] | None = None
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[C, dict[str, Any]]
        ] = weakref.WeakKeyDictionary()
        self._exit_hook = False

    def get(self, options: Mapping[str, Any]) -> C:
        """The shared client, made from the environment (with ``options``) on first call."""
        override = self._override
        if override is not None:
            return override
        if self._per_loop:
            return self._for_loop(options)
        made = self._made
        if made is not None and not getattr(made[0], "_closed", False):
            _check_options(made[1], options, self._name)
            return made[0]
        with self._lock:
            made = self._made
            if made is None or getattr(made[0], "_closed", False):
                made = (self._make(**options), dict(options))
                self._made = made
                if self._close is not None and not self._exit_hook:
                    atexit.register(self._close_at_exit)
                    self._exit_hook = True
            else:
                _check_options(made[1], options, self._name)
            return made[0]

    def _for_loop(self, options: Mapping[str, Any]) -> C:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{self._name}.shared() needs a running event loop: call it inside an "
                "async handler (use VropsClient.shared() in sync code)"
            ) from None
        made = self._by_loop.get(loop)
        if made is None or getattr(made[0], "_closed", False):
            with self._lock:
                made = self._by_loop.get(loop)
                if made is None or getattr(made[0], "_closed", False):
                    made = (self._make(**options), dict(options))
                    self._by_loop[loop] = made
                    return made[0]
        _check_options(made[1], options, self._name)
        return made[0]

    def replace(self, client: C | None) -> SharedOverride:
        """Make :meth:`get` answer ``client``; ``None`` forgets the clients made here too."""
        with self._lock:
            previous = self._override
            self._override = client
            dropped = self._made if client is None else None
            if client is None:
                self._made = None
                self._by_loop.clear()
        if dropped is not None and self._close is not None:
            self._close(dropped[0])

        def restore() -> None:
            with self._lock:
                self._override = previous

        return SharedOverride(restore)

    def _close_at_exit(self) -> None:
        made, self._made = self._made, None
        if made is not None and self._close is not None:
            try:
                self._close(made[0])  # releases the token
            except Exception:  # at exit, a failed release must not mask others
                return


_SLOTS_LOCK = threading.Lock()


def shared_clients(
    cls: type[C],
    *,
    per_loop: bool = False,
    close: Callable[[C], None] | None = None,
) -> SharedClients[C]:
    """The :class:`SharedClients` of ``cls`` itself (a subclass gets its own), made once.

    Clients are made by ``cls.from_env(**options)``, looked up when a client is made.
    """
    slots: SharedClients[C] | None = cls.__dict__.get("_veba_shared")
    if slots is None:
        with _SLOTS_LOCK:
            slots = cls.__dict__.get("_veba_shared")
            if slots is None:

                def make(**options: Any) -> C:
                    client: C = getattr(cls, "from_env")(**options)  # noqa: B009  # cls: type[C]
                    return client

                slots = SharedClients(cls.__name__, make, per_loop=per_loop, close=close)
                type.__setattr__(cls, "_veba_shared", slots)
    return slots


def _close(client: Any) -> None:
    """How a shared sync client is closed at exit or when forgotten (releases its token)."""
    client.close()


class SyncSharing:
    """``shared()`` and ``set_shared()`` of :class:`~veba_sdk.vrops.VropsClient`."""

    @classmethod
    def shared(cls, **options: Any) -> Self:
        """The process-wide client, made from the environment on the first call.

        Call it where the client is used (in the handler), not at import time, so importing
        the handler module needs no vROps settings (``veba manifests``, tests)::

            @on("EnteredMaintenanceModeEvent")
            def mark(event, ctx):
                vrops = VropsClient.shared()
                vrops.mark_maintained(vrops.host_id(event.host.name))

        Made once under a lock: one client and one token for every thread. ``options`` go to
        :meth:`from_env` when the client is made (``cache_host_ids=True``); a later call that
        gives options must give the same ones. A client closed by mistake (``with
        VropsClient.shared() as ...``) is made again. The test kit's ``vrops_client`` fixture
        (or :meth:`set_shared`) makes it answer a client on ``FakeVrops``.

        Raises:
            VropsError: the environment has no vROps settings (nothing is kept: the next call
                tries again).
            ValueError: ``options`` differ from those the shared client was made with.
        """
        return shared_clients(cls, close=_close).get(options)

    @classmethod
    def set_shared(cls, client: Self | None) -> SharedOverride:
        """Make :meth:`shared` answer ``client`` (tests, or a client built by hand).

        ``None`` forgets the override and closes the client made from the environment, so the
        next :meth:`shared` reads the environment again. Takes effect at once; used as a
        context manager, leaving the block puts back what :meth:`shared` answered before::

            with VropsClient.set_shared(FakeVrops().client()):
                ...
        """
        return shared_clients(cls, close=_close).replace(client)


class AsyncSharing:
    """``shared()`` and ``set_shared()`` of :class:`~veba_sdk.vrops.AsyncVropsClient`."""

    @classmethod
    def shared(cls, **options: Any) -> Self:
        """The client of the running event loop, made from the environment on its first call.

        Call it inside ``async def`` handlers (an ``httpx.AsyncClient``'s connections belong
        to one loop, so each running loop gets its own client, made once under a lock; under
        uvicorn that is one client for the process). Importing the handler module needs no
        vROps settings. ``options`` go to :meth:`from_env` when a client is made; a later call
        giving options must give the same ones. The test kit's ``vrops_client`` fixture (or
        :meth:`set_shared`) makes it answer a client on ``FakeVrops``, whatever the loop.

        Raises:
            RuntimeError: no event loop is running.
            VropsError: the environment has no vROps settings.
            ValueError: ``options`` differ from those the shared client was made with.
        """
        return shared_clients(cls, per_loop=True).get(options)

    @classmethod
    def set_shared(cls, client: Self | None) -> SharedOverride:
        """Make :meth:`shared` answer ``client`` on every loop (tests, a hand-built client).

        ``None`` forgets the override and the clients made from the environment (they are not
        closed: that needs their loop; ``await client.aclose()`` them there if it matters).
        Used as a context manager, leaving the block puts back what :meth:`shared` answered.
        """
        return shared_clients(cls, per_loop=True).replace(client)
