"""The reader of a ``VSphereSource`` manifest, checked as the source's admission webhook does."""

from __future__ import annotations

from ..wire import XML_MEDIA_TYPE
from ._models import (
    PAYLOAD_ENCODINGS,
    VSPHERE_SOURCE_API_VERSION,
    VSPHERE_SOURCE_KIND,
    Destination,
    VSphereSource,
)
from ._readers import read_kref
from ._section import Section

__all__ = ["read_vsphere_source"]


def _read_sink(sec: Section) -> Destination:
    ref = sec.read("ref", read_kref, required=False)
    uri = sec.string("uri", required=False)
    for optional in ("CACerts", "audience"):
        sec.string(optional, required=False)
    if uri is not None and "://" not in uri and ref is None:
        sec.problem("uri", "must be an absolute URL (scheme://host/...) without a ref")
    if ref is None and uri is None and not sec.has("ref"):
        sec.problems.append(f"{sec.path}: one of ref, uri is required")
    return Destination(ref=ref, uri=uri)


def _non_negative(sec: Section, key: str) -> None:
    value = sec.get(key, False)
    if key in sec.value and (type(value) is not int or value < 0):
        sec.problem(key, "must be a whole number >= 0")


def _read_checkpoint(sec: Section) -> None:
    _non_negative(sec, "maxAgeSeconds")
    _non_negative(sec, "periodSeconds")


def _read_source_spec(sec: Section, metadata: dict[str, str | None]) -> VSphereSource:
    address = sec.req_string("address")
    if address and "://" not in address:
        sec.problem("address", "must be an absolute URL (https://vcenter/...)")
    secret = sec.read("secretRef", lambda s: s.req_string("name")) or ""
    sink = sec.read("sink", _read_sink) or Destination()
    encoding = (sec.string("payloadEncoding", required=False) or XML_MEDIA_TYPE).lower()
    if encoding not in PAYLOAD_ENCODINGS:
        sec.problem("payloadEncoding", f"must be one of {', '.join(PAYLOAD_ENCODINGS)}")
    sec.read("checkpointConfig", _read_checkpoint, required=False)
    sec.string("serviceAccountName", required=False)
    overrides = sec.section("ceOverrides", required=False)
    if overrides is not None:
        overrides.seen.update(overrides.value)  # extensions are free-form
    return VSphereSource(
        name=metadata["name"] or "",
        namespace=metadata["namespace"],
        address=address,
        skip_tls_verify=sec.boolean("skipTLSVerify", required=False),
        secret_name=secret,
        sink=sink,
        payload_encoding=encoding,
    )


def _read_object_metadata(sec: Section) -> dict[str, str | None]:
    found = {"name": sec.req_string("name"), "namespace": sec.string("namespace", required=False)}
    sec.seen.update(sec.value)  # labels, annotations, ...: Kubernetes' business
    return found


def read_vsphere_source(sec: Section) -> VSphereSource:
    """A whole VSphereSource manifest; placeholders stand in where ``sec.problems`` says why."""
    sec.choice("apiVersion", (VSPHERE_SOURCE_API_VERSION,))
    sec.choice("kind", (VSPHERE_SOURCE_KIND,))
    metadata = sec.read("metadata", _read_object_metadata) or {"name": "", "namespace": None}
    sec.seen.add("status")
    spec = sec.read("spec", lambda s: _read_source_spec(s, metadata))
    return spec or VSphereSource(name="", address="", secret_name="", sink=Destination())
