"""``veba serve``: run a function's handlers locally, as its platform would.

``--viewer`` puts the live event viewer on the function's own server with the knative adapter
(``GET /_veba/``, uvicorn). The openfaas and gcf adapters are served by waitress, where an
open page (a server-sent events response that never ends) would hold a worker thread for as
long as it is open: there the viewer gets a uvicorn server of its own, in a daemon thread, on
``127.0.0.1:--viewer-port`` (default the function's port + 1), fed by an observer on the
same router.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from .._errors import ConfigError, MissingExtra
from .._extras import needs_extra
from ._load import is_path, load_router

if TYPE_CHECKING:
    from .._router import Router
    from ..viewer import ViewerServer

__all__ = ["command", "knative_app"]

_TARGET_ENV = "VEBA_SERVE_TARGET"
_LOG_LEVEL_ENV = "VEBA_LOG_LEVEL"
_METRICS_ENV = "VEBA_SERVE_METRICS"  # read by uvicorn's reload workers too
_VIEWER_ENV = "VEBA_SERVE_VIEWER"


def _metrics_on() -> bool:
    """Whether ``--metrics`` was given (``GET /metrics`` on the function's server)."""
    return os.environ.get(_METRICS_ENV) == "1"


def log_to_stderr(level: str) -> None:
    """Log records to stderr at ``level``, in the deployed format (text, or JSON with
    ``VEBA_LOG_FORMAT=json``), unless logging was configured already."""
    import logging

    from ..logging import formatter

    if logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter())
    logging.basicConfig(level=level, handlers=[handler])


def configure_logging(level: str | None = None) -> None:
    """Show handlers' ``ctx.logger`` records, as a platform's log collector would.

    Reads ``$VEBA_LOG_LEVEL`` when no level is given, so uvicorn's reload workers (fresh
    processes) log like the parent. Lines go to stderr (see :func:`log_to_stderr`).
    """
    level = (level or os.environ.get(_LOG_LEVEL_ENV) or "INFO").upper()
    os.environ[_LOG_LEVEL_ENV] = level
    log_to_stderr(level)


def knative_app() -> object:
    """The ASGI app for the router named in ``$VEBA_SERVE_TARGET`` (a uvicorn factory)."""
    from ..adapters.knative import asgi

    configure_logging()
    router = load_router(os.environ[_TARGET_ENV])
    app = asgi(router, metrics=_metrics_on())
    if os.environ.get(_VIEWER_ENV) == "1":  # --viewer: the live page at GET /_veba/
        from ..viewer import EventFeed, ViewerApp, ViewerObserver, with_viewer

        feed = EventFeed()
        router.add_observer(ViewerObserver(feed))
        return with_viewer(app, ViewerApp(feed))
    return app


def _watched(target: str) -> list[str]:
    """Directories ``--reload`` watches: the current one, and a module file's own."""
    module = target.partition(":")[0]
    dirs = [os.getcwd()]
    if is_path(module):
        dirs.append(os.path.dirname(os.path.abspath(module)))
    return list(dict.fromkeys(dirs))


def _start_viewer(router: Router, port: int | None, reload: bool) -> ViewerServer | None:
    """The viewer of ``router`` on its own server at ``127.0.0.1:port`` (uvicorn in a daemon
    thread), started; ``None`` without ``--viewer`` or in werkzeug's reloader parent (the
    child it runs serves, viewer included)."""
    if port is None or (reload and os.environ.get("WERKZEUG_RUN_MAIN") != "true"):
        return None
    from ..viewer import EventFeed, ViewerObserver, ViewerServer

    feed = EventFeed()
    router.add_observer(ViewerObserver(feed))
    server = ViewerServer(feed, "127.0.0.1", port)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"--viewer-port {port}: {exc}") from None
    click.echo(f"veba: event viewer on http://127.0.0.1:{server.port}/", err=True)
    return server


def _serve_knative(
    target: str, host: str, port: int, reload: bool, viewer_port: int | None = None
) -> None:
    """uvicorn with the knative app; its viewer (``$VEBA_SERVE_VIEWER``) is on the same
    server, so ``viewer_port`` is unused."""
    with needs_extra("cli", "veba serve"):
        import uvicorn

    os.environ[_TARGET_ENV] = target
    load_router(target)  # fail fast, before the server starts
    uvicorn.run(
        f"{__name__}:knative_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=_watched(target) if reload else None,
        log_level="info",
        # An open viewer page is a response that never ends: do not wait on it to stop.
        timeout_graceful_shutdown=2 if os.environ.get(_VIEWER_ENV) == "1" else None,
    )


def _serve_openfaas(
    target: str, host: str, port: int, reload: bool, viewer_port: int | None = None
) -> None:
    from ..adapters.openfaas import handler
    from .openfaas_wsgi import serve, wsgi_app

    router = load_router(target)
    handle = handler(router, metrics=_metrics_on())
    if reload:
        try:
            from werkzeug.serving import run_simple
        except ImportError:
            raise click.UsageError("--reload with --adapter openfaas needs werkzeug") from None
    viewer = _start_viewer(router, viewer_port, reload)
    try:
        if reload:
            run_simple(host, port, wsgi_app(handle), use_reloader=True, threaded=True)
            return
        click.echo(
            f"veba: serving {target} (openfaas python3-http) on http://{host}:{port}", err=True
        )
        serve(handle, host, port)
    finally:
        if viewer is not None:
            viewer.close()


def _serve_gcf(
    target: str, host: str, port: int, reload: bool, viewer_port: int | None = None
) -> None:
    import tempfile

    try:
        with needs_extra("gcf", "veba serve --adapter gcf"):
            import functions_framework
            from functions_framework._http import create_server
    except MissingExtra as exc:
        raise click.UsageError(str(exc)) from None
    load_router(target)  # fail fast with a readable error
    # functions-framework loads its target from a source file: write a two-line one.
    source = os.path.join(tempfile.mkdtemp(prefix="veba-gcf-"), "main.py")
    with open(source, "w", encoding="utf-8") as out:
        out.write(
            "import sys\n"
            f"sys.path.insert(0, {os.getcwd()!r})\n"
            "from veba_sdk.adapters.gcf import function\n"
            "from veba_sdk.cli._load import load_router\n"
            f"function = function(load_router({target!r}), 'function')\n"
        )
    app = functions_framework.create_app("function", source, "cloudevent")  # type: ignore[no-untyped-call]
    router = load_router(target)  # the router the app's source loaded
    if _metrics_on():
        from ..adapters.gcf import serve_metrics

        serve_metrics(app, router)
    viewer = _start_viewer(router, viewer_port, reload)
    click.echo(f"veba: serving {target} (functions-framework) on http://{host}:{port}", err=True)
    try:
        if reload:
            create_server(app, reload).run(host, port)  # type: ignore[no-untyped-call]
            return
        # functions-framework's own server is gunicorn's gthread worker, whose threads (CPUs x
        # 4) each wait on one connection until its request has arrived: a few slow clients stop
        # it. waitress runs the same Flask app with requests read whole on its event loop first.
        from .openfaas_wsgi import serve_wsgi

        threads = int(os.environ.get("THREADS", (os.cpu_count() or 1) * 4))
        serve_wsgi(app, host, port, threads=threads)
    finally:
        if viewer is not None:
            viewer.close()


def _check_auth(scheme: str | None) -> None:
    """Set ``VEBA_AUTH`` for the server (and its reload workers), failing fast on a bad setting.

    Every adapter reads it when made; here it is read once first, so a missing variable is
    one usage error instead of a traceback in the server.
    """
    from ..auth import from_env

    if scheme is not None:
        os.environ["VEBA_AUTH"] = scheme
    try:
        auth = from_env()
    except (ConfigError, MissingExtra) as exc:
        raise click.UsageError(str(exc)) from None
    if auth is not None:
        scheme = os.environ["VEBA_AUTH"].strip().lower()
        click.echo(f"veba: callers must authenticate ({scheme}: {auth!r})", err=True)


_SERVERS = {"knative": _serve_knative, "openfaas": _serve_openfaas, "gcf": _serve_gcf}


def _viewer_port(adapter: str, port: int, viewer_port: int | None) -> int | None:
    """Where the viewer of ``--adapter openfaas|gcf`` listens (``--viewer-port``, else the
    function's port + 1, else any free port), checking that uvicorn is installed first."""
    if adapter == "knative":
        if viewer_port is not None:
            raise click.UsageError(
                "--viewer-port: the knative adapter serves the viewer at /_veba/ of its own "
                "server (--viewer-port is for --adapter openfaas and gcf)"
            )
        return None
    try:
        with needs_extra("cli", f"veba serve --viewer --adapter {adapter}"):
            import uvicorn  # noqa: F401  (the viewer's own server)
    except MissingExtra as exc:
        raise click.UsageError(str(exc)) from None
    if viewer_port is not None:
        return viewer_port
    return port + 1 if 0 < port < 65535 else 0


@click.command()
@click.argument("target", metavar="MODULE[:ROUTER]")
@click.option(
    "--adapter",
    type=click.Choice(sorted(_SERVERS)),
    default="knative",
    show_default=True,
    help="Serve as this platform does: knative (ASGI on uvicorn), openfaas (python3-http "
    "contract on waitress) or gcf (functions-framework's app, on waitress).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--reload", is_flag=True, help="Restart when the source changes (development).")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Level of the handlers' log records (ctx.logger).",
)
@click.option(
    "--metrics",
    is_flag=True,
    help="Count events and handler outcomes, and serve them in the Prometheus text format on "
    "GET /metrics of the same server (needs prometheus-client: veba-sdk[metrics]).",
)
@click.option(
    "--viewer",
    is_flag=True,
    help="Serve the live event viewer, to loopback clients: at GET /_veba/ of the same server "
    "(knative), or on a server of its own at http://127.0.0.1:--viewer-port/ (openfaas, gcf: "
    "so that open pages hold no waitress worker).",
)
@click.option(
    "--viewer-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="With --viewer and --adapter openfaas or gcf: the viewer's port on 127.0.0.1 "
    "(default: --port + 1; 0 picks a free one). Needs uvicorn (veba-sdk[cli]).",
)
@click.option(
    "--auth",
    "auth_scheme",
    type=click.Choice(["oidc", "basic", "hmac", "none"]),
    default=None,
    help="Check who sends events, as a deployed function with VEBA_AUTH does (its settings "
    "from the VEBA_OIDC_*, VEBA_BASIC_*, VEBA_HMAC_* variables). Default: $VEBA_AUTH.",
)
def command(
    target: str,
    adapter: str,
    host: str,
    port: int,
    reload: bool,
    log_level: str,
    metrics: bool,
    viewer: bool = False,
    viewer_port: int | None = None,
    auth_scheme: str | None = None,
) -> None:
    """Run the handlers of MODULE (its `router`, or ROUTER) as a local HTTP function.

    \b
    Examples:
      veba serve handler
      veba serve handler:router --adapter openfaas --port 8081
      veba serve handler --metrics        # and: curl localhost:8080/metrics
      veba serve handler --viewer         # and open http://127.0.0.1:8080/_veba/
      veba serve handler --adapter openfaas --viewer   # viewer: http://127.0.0.1:8081/
      VEBA_BASIC_USERNAME=u VEBA_BASIC_PASSWORD=p veba serve handler --auth basic
    """
    configure_logging(log_level)
    _check_auth(auth_scheme)
    if metrics:
        os.environ[_METRICS_ENV] = "1"
    if viewer_port is not None and not viewer:
        raise click.UsageError("--viewer-port needs --viewer")
    own_port = _viewer_port(adapter, port, viewer_port) if viewer else None
    if viewer and adapter == "knative":
        os.environ[_VIEWER_ENV] = "1"
        click.echo(f"veba: event viewer on http://{host}:{port}/_veba/", err=True)
    _SERVERS[adapter](target, host, port, reload, own_port)


command.name = "serve"
