"""Reading vROps answers: error mapping, JSON bodies, pages and their paging maths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from veba_sdk.vrops._errors import VropsAuthError, VropsError, VropsNotFound
from veba_sdk.vrops._models import Alert, Page, PageInfo, Resource
from veba_sdk.vrops._retry import parse_retry_after

__all__ = [
    "error_from_response",
    "json_body",
    "next_page",
    "page_params",
    "parse_alerts",
    "parse_resources",
]


def error_from_response(
    response: httpx.Response, redact: Callable[[str], str], *, context: str = ""
) -> VropsError:
    """Map a non-success response to the right :class:`VropsError` subclass."""
    status = response.status_code
    message = ""
    api_error_code: int | None = None
    failures: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        code = body.get("apiErrorCode")
        api_error_code = code if isinstance(code, int) and not isinstance(code, bool) else None
        for item in body.get("validationFailures") or ():
            if isinstance(item, dict) and item.get("failureMessage"):
                failures.append(redact(str(item["failureMessage"])))
    if not message:
        message = response.reason_phrase or "error"
    message = redact(message)
    if context:
        message = f"{context}: {message}"
    kwargs: dict[str, Any] = {
        "status": status,
        "api_error_code": api_error_code,
        "validation_failures": failures,
        "retry_after": parse_retry_after(response.headers.get("Retry-After")),
    }
    cls: type[VropsError]
    if status == 401:
        cls = VropsAuthError
    elif status == 404:
        cls = VropsNotFound
    else:
        cls = VropsError
    return cls(message, **kwargs)


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or a :class:`VropsError` if it is not JSON."""
    try:
        return response.json()
    except ValueError:
        pass
    # Raised here, outside the handler: the JSON error holds the whole body (``doc``), which
    # may echo what was sent, so nothing chains to it.
    raise VropsError(
        "response is not JSON (is Accept honoured, or is a proxy answering?)",
        status=response.status_code,
    )


def page_params(page: int, page_size: int) -> tuple[tuple[str, str], ...]:
    """Query parameters for one 0-based page."""
    return (("page", str(page)), ("pageSize", str(page_size)))


def next_page(info: PageInfo, page: int, page_size: int, received: int) -> int | None:
    """The next page number to fetch, or ``None`` when the last page was read.

    Uses ``totalCount`` when the server sends it; otherwise a short page ends
    the listing.
    """
    if received == 0:
        return None
    if info.total_count is not None:
        return page + 1 if (page + 1) * page_size < info.total_count else None
    return page + 1 if received >= page_size else None


def parse_resources(response: httpx.Response, page: int, page_size: int) -> Page[Resource]:
    """A ``resources`` answer as a :class:`Page`."""
    data = json_body(response) or {}
    items = tuple(Resource.from_json(r) for r in data.get("resourceList") or ())
    return Page(
        items=items, info=PageInfo.from_json(data.get("pageInfo"), page=page, page_size=page_size)
    )


def parse_alerts(response: httpx.Response, page: int, page_size: int) -> Page[Alert]:
    """An ``alerts`` answer as a :class:`Page`."""
    data = json_body(response) or {}
    items = tuple(Alert.from_json(a) for a in data.get("alerts") or ())
    return Page(
        items=items, info=PageInfo.from_json(data.get("pageInfo"), page=page, page_size=page_size)
    )
