"""``parse_event`` and ``to_dict``: vCenter event payloads to typed models and back.

Structuring follows the cattrs advice (rules live outside the models) and the attrs habit
(generate plain Python once, run it many times): the first time a class is parsed, a
structuring function for it is written as Python source from the catalogue and compiled with
``exec``. It reads the wire keys with ``dict.get`` and checks each value's type with one
``__class__`` comparison; a payload whose keys are all known in one casing (the common case)
takes that straight path, anything else is first normalised key by key.

Tolerance rules, the same for every field:

* missing, ``null`` and ``""`` are accepted everywhere; ``""`` stays ``""`` in string fields
  and becomes ``None`` elsewhere;
* a value of the wrong shape never fails the event: the field becomes ``None`` (or what could
  be read of it) and the raw value is kept in ``event.extra`` under its wire name, so
  ``to_dict`` gives it back unchanged;
* unknown keys are kept in ``event.extra`` under their wire names;
* deep polymorphic values (``ConfigSpec``, ``TaskInfo``, faults) stay plain mappings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._errors import InvalidEvent
from ._catalogue import ARGUMENTS, EVENTS, MANAGED_OBJECT_REFERENCE, Field
from ._models import all_fields, get_class

if TYPE_CHECKING:
    from ._classes import Event

__all__ = ["DEFAULT_MAX_SIZE", "parse_event", "to_dict"]

DEFAULT_MAX_SIZE = 1 << 20
_UTC = UTC
_new = object.__new__
_SCALAR_CLASS = {"int": "int", "str": "str", "bool": "bool", "float": "float"}


class _Odd(Exception):
    """A value of the wrong shape; ``value`` is what could be read of it (often ``None``)."""

    def __init__(self, value: Any = None) -> None:
        self.value = value


# --- scalar converters: return the value, or raise _Odd ------------------------------------


def _int(v: Any) -> int | None:
    cls = v.__class__
    if cls is int:
        return v  # type: ignore[no-any-return]
    if cls is str:
        s = v.strip()
        if not s:
            return None
        if s.lstrip("+-").isdigit() and len(s) < 40:
            return int(s)
    elif cls is float and v.is_integer():
        return int(v)
    raise _Odd


def _float(v: Any) -> float | None:
    cls = v.__class__
    if cls is float or cls is int:
        return float(v)
    if cls is str:
        s = v.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            pass
    raise _Odd


def _str(v: Any) -> str:
    if isinstance(v, str):
        return str(v)
    raise _Odd


def _bool(v: Any) -> bool | None:
    if v.__class__ is bool:
        return bool(v)
    if v.__class__ is str:
        s = v.strip().lower()
        if s in ("true", "1"):
            return True
        if s in ("false", "0"):
            return False
        if not s:
            return None
    raise _Odd


_time_re: Any = None


def _time(v: Any) -> datetime | None:
    """RFC 3339 text to an aware UTC datetime; fractions beyond microseconds are truncated."""
    if v.__class__ is str:
        if v[-1:] == "Z" and len(v) >= 20 and v[10] == "T":
            try:
                return datetime.fromisoformat(v)
            except ValueError:
                pass
        return _time_slow(v)
    if isinstance(v, datetime):
        if v.tzinfo is None:
            return v.replace(tzinfo=_UTC)
        return v.astimezone(_UTC)
    raise _Odd


def _time_slow(v: str) -> datetime | None:
    global _time_re
    s = v.strip()
    if not s:
        return None
    if _time_re is None:
        import re

        _time_re = re.compile(
            r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,12}))?"
            r"\s*(?:([Zz])|([+-])(\d\d):?(\d\d))?"
        )
    m = _time_re.fullmatch(s)
    if m is None:
        raise _Odd
    year, month, day, hour, minute, second, frac, _z, sign, off_h, off_m = m.groups()
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, _UTC
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            dt = dt - offset if sign == "+" else dt + offset
    except (ValueError, OverflowError):
        raise _Odd from None
    return dt


def _any(v: Any) -> Any:
    # govmomi's JSON encoder wraps interface values: {"_typeName": "string", "_value": "x"}.
    if v.__class__ is dict and len(v) == 2 and "_value" in v and "_typeName" in v:
        return v["_value"]
    return v


def _mapping(v: Any) -> dict[str, Any] | None:
    if isinstance(v, dict):
        return v
    if isinstance(v, Mapping):
        return dict(v)
    if v == "":
        return None
    raise _Odd


_MO_PASCAL = frozenset(("Type", "Value", "ServerGUID", "_typeName"))
_MO_CAMEL = frozenset(("type", "value", "serverGuid", "_typeName"))
_MO_ANY = {
    "Type": 0, "type": 0, "Value": 1, "value": 1,
    "ServerGUID": 2, "ServerGuid": 2, "serverGuid": 2,
}  # fmt: skip
# The MoRef class, set by _moref_init before any structuring function is compiled.
_mo_cls: Any = None


def _moref_init() -> None:
    global _mo_cls
    if _mo_cls is None:
        _mo_cls = get_class(MANAGED_OBJECT_REFERENCE)


def _moref(v: Any) -> Any:
    if v.__class__ is dict:
        t = v.get("Type")
        val = v.get("Value")
        if t.__class__ is str and val.__class__ is str and len(v) == 2:
            mo = _new(_mo_cls)
            mo.type = t
            mo.value = val
            mo.server_guid = None
            return mo
    return _moref_any(v)


def _moref_any(v: Any) -> Any:
    if v.__class__ is not dict:
        if v == "":
            return None
        raise _Odd
    k = v.keys()
    if k <= _MO_PASCAL:
        t = v.get("Type")
        val = v.get("Value")
        guid = v.get("ServerGUID")
        unknown = False
    elif k <= _MO_CAMEL:
        t = v.get("type")
        val = v.get("value")
        guid = v.get("serverGuid")
        unknown = False
    else:
        values, rest = _pick(v, _MO_ANY, 3)
        t, val, guid = values
        unknown = bool(rest)
    if t.__class__ is str and val.__class__ is str and (guid is None or guid.__class__ is str):
        _moref_init()
        mo = _new(_mo_cls)
        mo.type = t
        mo.value = val
        mo.server_guid = guid or None
        if unknown:
            raise _Odd(mo)
        return mo
    raise _Odd


def _list_of(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(v: Any) -> tuple[Any, ...] | None:
        if v.__class__ is not list and v.__class__ is not tuple:
            if v == "":
                return None
            raise _Odd
        out = []
        odd = False
        for x in v:
            if x is None:
                odd = True
                continue
            try:
                y = item(x)
            except _Odd as e:
                odd = True
                y = e.value
            if y is not None:
                out.append(y)
        result = tuple(out)
        if odd:
            raise _Odd(result)
        return result

    return convert


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "float": _float,
    "str": _str,
    "bool": _bool,
    "datetime": _time,
    "any": _any,
    "mapping": _mapping,
    "moref": _moref,
}


class _Deferred:
    """An argument type's structuring function, compiled on its first call.

    An event class refers to up to a dozen argument types; most payloads carry a few, and the
    common shapes are built inline by the event's own code. Once compiled, the function
    replaces this object in ``_CONVERTERS`` and in the namespaces of the generated code.
    """

    __slots__ = ("fn", "kind", "users")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.fn: Callable[[Any], Any] | None = None
        self.users: list[tuple[dict[str, Any], str]] = []

    def __call__(self, v: Any) -> Any:
        fn = self.fn
        if fn is None:
            fn = self.fn = _argument_structurer(self.kind)
            _CONVERTERS[self.kind] = fn
            for namespace, key in self.users:
                namespace[key] = fn
            self.users.clear()
        return fn(v)


def _converter(kind: str) -> Callable[[Any], Any]:
    conv = _CONVERTERS.get(kind)
    if conv is None:
        conv = _list_of(_converter(kind[5:])) if kind.startswith("list:") else _Deferred(kind)
        _CONVERTERS[kind] = conv
    return conv


# --- generated structuring functions ---------------------------------------------------------


def _pick(d: Mapping[str, Any], index: dict[str, int], n: int) -> tuple[list[Any], dict[str, Any]]:
    """Values by field position from keys of any casing; unknown keys returned apart."""
    values: list[Any] = [None] * n
    unknown: dict[str, Any] = {}
    for key, value in d.items():
        i = index.get(key)
        if i is None:
            if key != "_typeName":
                unknown[key] = value
        elif values[i] is None:
            values[i] = value
        else:
            unknown[key] = value
    return values, unknown


_INLINE_KINDS = {"str": "str", "int": "int", "bool": "bool", "moref": None}


def _inline_argument(kind: str) -> tuple[Field, ...] | None:
    """The fields of an argument type simple enough to build inline, else None."""
    if kind not in ARGUMENTS:
        return None
    fields = all_fields(kind)
    if not fields or any(f[3] not in _INLINE_KINDS for f in fields):
        return None
    return fields


def _field_code(i: int, f: Field, odd: str) -> list[str]:
    """Source lines converting local ``f{i}`` in place; ``odd`` handles an _Odd ``e``."""
    kind = f[3]
    var = f"f{i}"
    scalar = _SCALAR_CLASS.get(kind)
    if scalar is not None:
        test = f"if {var}.__class__ is not {scalar} and {var} is not None:"
    else:
        test = f"if {var} is not None:"
    convert = [
        "        try:",
        f"            {var} = _c{i}({var})",
        "        except _Odd as e:",
        f"            {odd.format(var=var, i=i)}",
        f"            {var} = e.value",
    ]
    if kind == "moref":
        # Inline fast path for the usual {"Type": ..., "Value": ...}.
        return [
            f"    {test}",
            f"        if {var}.__class__ is dict and len({var}) == 2 and "
            f"(t := {var}.get('Type')).__class__ is str and "
            f"(v := {var}.get('Value')).__class__ is str:",
            "            m = _new(_Mo)",
            "            m.type = t",
            "            m.value = v",
            "            m.server_guid = None",
            f"            {var} = m",
            "        else:",
            *("    " + line for line in convert),
        ]
    if kind == "datetime":
        # Inline fast path for RFC 3339 UTC text ("2022-04-20T15:47:32.365Z"), as _time has.
        return [
            f"    {test}",
            f"        if {var}.__class__ is str and len({var}) >= 20 and {var}[10] == 'T' and "
            f"{var}[-1] == 'Z':",
            "            try:",
            f"                {var} = _fromiso({var})",
            "            except ValueError:",
            *("        " + line for line in convert),
            "        else:",
            *("    " + line for line in convert),
        ]
    arg_fields = _inline_argument(kind)
    if arg_fields is not None:
        # Inline fast path for an argument object with every field present in PascalCase and
        # of the expected type ({"Name": "esx01", "Host": {"Type": ..., "Value": ...}}): the
        # same object the argument's structuring function builds on its own fast path.
        # Keys are read by subscript (a missing one raises KeyError: not this shape): the
        # dicts are exact dicts of the expected size, so every key present is the one asked.
        tests = [f"{var}.__class__ is dict", f"len({var}) == {len(arg_fields)}"]
        build = []
        for j, a in enumerate(arg_fields):
            a_var = f"a{j}"
            tests.append(f"({a_var} := {var}[{a[1]!r}]).__class__ is "
                         f"{_INLINE_KINDS[a[3]] or 'dict'}")
            if a[3] == "moref":
                tests += [
                    f"len({a_var}) == 2",
                    f"(t{j} := {a_var}['Type']).__class__ is str",
                    f"(v{j} := {a_var}['Value']).__class__ is str",
                ]
                build += [
                    "            m = _new(_Mo)",
                    f"            m.type = t{j}",
                    f"            m.value = v{j}",
                    "            m.server_guid = None",
                    f"            o.{a[0]} = m",
                ]
            else:
                build.append(f"            o.{a[0]} = {a_var}")
        return [
            f"    {test}",
            "        try:",
            f"            shaped = {' and '.join(tests)}",
            "        except KeyError:",
            "            shaped = False",
            "        if shaped:",
            f"            o = _new(_A{i})",
            *build,
            f"            {var} = o",
            "        else:",
            *("    " + line for line in convert),
        ]
    return [f"    {test}", *convert]


def _compile(source: str, namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    # exec of the text, not compile(): the first compile() in a process costs ~1.4 ms more
    # (it builds the ast module's types to check whether its argument is an AST).
    exec(source, namespace)
    return namespace[name]  # type: ignore[no-any-return]


def _namespace(fields: tuple[Field, ...], cls: type[Any]) -> dict[str, Any]:
    _moref_init()
    ns: dict[str, Any] = {
        "_Odd": _Odd,
        "_new": object.__new__,
        "_Mo": _mo_cls,
        "_pick": _pick,
        "_cls": cls,
        "_P": frozenset([f[1] for f in fields] + ["_typeName"]),
        "_C": frozenset([f[2] for f in fields] + ["_typeName"]),
        "_Pd": frozenset([f[1] for f in fields] + ["_typeName"]).issuperset,
        "_Cd": frozenset([f[2] for f in fields] + ["_typeName"]).issuperset,
        "_INDEX": {**{f[1]: i for i, f in enumerate(fields)},
                   **{f[2]: i for i, f in enumerate(fields)}},
        "_W": tuple((f[1], f[2]) for f in fields),
    }
    for i, f in enumerate(fields):
        ns[f"_c{i}"] = conv = _converter(f[3])
        if isinstance(conv, _Deferred):
            conv.users.append((ns, f"_c{i}"))
        if _inline_argument(f[3]) is not None:
            ns[f"_A{i}"] = get_class(f[3])
    ns["_fromiso"] = datetime.fromisoformat
    return ns


def _reads(fields: tuple[Field, ...], column: int, indent: str = "        ") -> list[str]:
    if not fields:
        return []
    out = [f"{indent}g = d.get"]
    out += [f"{indent}f{i} = g({f[column]!r})" for i, f in enumerate(fields)]
    return out


def _argument_structurer(name: str) -> Callable[[Any], Any]:
    """Compile ``(value) -> argument instance`` for an argument type; raises _Odd."""
    fields = all_fields(name)
    cls = get_class(name)
    n = len(fields)
    fn = f"_structure_{name}"
    unpack = ", ".join(f"f{i}" for i in range(n)) + ("," if n == 1 else "")
    all_present = " and ".join(["True", *(f"f{i} is not None" for i in range(n))])
    lines = [
        f"def {fn}(d):",
        "    if d.__class__ is not dict:",
        "        if d == '':",
        "            return None",
        "        raise _Odd",
        "    bad = False",
        *_reads(fields, 1, "    "),
        # Fast path: every field present and non-null in PascalCase, nothing else.
        f"    if len(d) != {n} or not ({all_present}):",
        "        k = d.keys()",
        "        if k <= _P:",
        "            pass",
        "        elif k <= _C:",
        *(_reads(fields, 2, "            ") or ["            pass"]),
        "        else:",
        f"            values, unknown = _pick(d, _INDEX, {n})",
        "            bad = bool(unknown)",
    ]
    if n:
        lines.append(f"            {unpack} = values")
    for i, f in enumerate(fields):
        lines += _field_code(i, f, "bad = True")
    lines += [
        "    o = _new(_cls)",
        *(f"    o.{f[0]} = f{i}" for i, f in enumerate(fields)),
        "    if bad:",
        "        raise _Odd(o)",
        "    return o",
    ]
    return _compile("\n".join(lines) + "\n", _namespace(fields, cls), fn)


_event_structurers: dict[str, Callable[[dict[str, Any], str], Any]] = {}
# Structuring functions by the exact class name asked for (known classes only): parse_event's
# fast path.
_by_name: dict[str, Callable[[dict[str, Any], str], Any]] = {}
#: ``known_structurer(class_name)``: the structuring function ``(mapping, class_name) -> event``
#: of a known class once parse_event has made it, else ``None``. For callers on the hot path
#: (build_envelope) that hold a decoded mapping; anything they cannot structure goes to
#: parse_event, which reports it.
known_structurer = _by_name.get


def _event_structurer(name: str) -> Callable[[dict[str, Any], str], Any]:
    """Compile ``(mapping, class_name) -> event`` for an event class."""
    fields = all_fields(name)
    cls = get_class(name)
    n = len(fields)
    fn = f"_structure_{name}"
    unpack = ", ".join(f"f{i}" for i in range(n)) + ("," if n == 1 else "")
    lines = [
        f"def {fn}(d, class_name):",
        # _P.issuperset(d) walks the keys without building a view: ~40 ns less than k <= _P.
        "    if _Pd(d):",
        "        c = 0",
        "        x = {}",
        *_reads(fields, 1),
        "    elif _Cd(d):",
        "        c = 1",
        "        x = {}",
        *_reads(fields, 2),
        "    else:",
        f"        values, x = _pick(d, _INDEX, {n})",
        f"        {unpack} = values",
        "        c = 0 if 'Key' in d or 'CreatedTime' in d or 'ChainId' in d else 1",
    ]
    for i, f in enumerate(fields):
        lines += _field_code(i, f, "x[_W[{i}][c]] = {var}")
    lines += [
        "    o = _new(_cls)",
        *(f"    o.{f[0]} = f{i}" for i, f in enumerate(fields)),
        "    o.extra = x",
        "    o.class_name = class_name",
        "    return o",
    ]
    return _compile("\n".join(lines) + "\n", _namespace(fields, cls), fn)


# --- parse_event -----------------------------------------------------------------------------

# JSON decoding is chosen on first use (orjson when installed, else the standard library):
# ``_loads`` decodes any JSON text; ``_object_loads`` is the fast path's decoder for bytes that
# start with ``{`` and may raise anything, the caller then takes the full path.
_loads: Callable[[Any], Any] | None = None
_object_loads: Callable[[bytes], Any] | None = None
_raw_decode: Any = None
_JSON_SPACE = " \t\n\r"


def _json_loads() -> Callable[[Any], Any]:
    if _loads is None:
        try:  # orjson is an optional accelerator (the `fast` extra)
            import orjson  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            _select_json("json")
        else:
            _select_json("orjson")
    assert _loads is not None
    return _loads


def _select_json(library: str) -> None:
    """Decode with ``"orjson"`` or the standard library's ``"json"`` (benchmarks, tests)."""
    global _loads, _object_loads, _raw_decode
    if library == "orjson":
        import orjson

        _loads = _object_loads = orjson.loads
    else:
        import json

        _raw_decode = json.JSONDecoder().raw_decode
        _loads = json.loads
        _object_loads = _stdlib_object_loads


def _stdlib_object_loads(payload: bytes) -> Any:
    """``json.loads(payload)`` for UTF-8 bytes starting with ``{``, minus its Python wrapper.

    ``json.loads`` detects the encoding, decodes with ``surrogatepass`` and runs the C scanner
    through ``JSONDecoder.decode``; here the scanner is reached through the public
    ``raw_decode`` directly (~1.5 us less on an 800-byte event). Anything unusual (a NUL as
    second byte, which json.loads would read as UTF-16/32, or text after the object) raises,
    and parse_event then takes the full path with ``json.loads`` and its error messages.
    """
    if payload[1:2] == b"\x00":
        raise ValueError("not UTF-8")
    text = payload.decode("utf-8", "surrogatepass")
    obj, end = _raw_decode(text)
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        raise ValueError("extra data")
    return obj


def _nearest_base(name: str, category: str | None, d: Mapping[str, Any]) -> str:
    if category == "eventex":
        return "EventEx"
    if category == "extendedevent":
        return "ExtendedEvent"
    if "EventTypeId" in d or "eventTypeId" in d:
        return "ExtendedEvent" if ("ManagedObject" in d or "managedObject" in d) else "EventEx"
    if "." in name:
        return "EventEx"
    return "Event"


def _looks_like_xml(payload: bytes | str, content_type: str | None) -> bool:
    if content_type and "xml" in content_type.lower():
        return True
    head = payload[:64].lstrip()
    return head[:1] in (b"<", "<")


def _decode(payload: Any, content_type: str | None, max_size: int) -> tuple[Any, Any]:
    """``(mapping or None, XML root or None)`` from bytes, str or a mapping."""
    if isinstance(payload, (bytearray, memoryview)):
        payload = bytes(payload)
    if isinstance(payload, (bytes, str)):
        if len(payload) > max_size:
            raise InvalidEvent(f"payload is larger than {max_size} bytes", field="data")
        if not payload.strip():
            raise InvalidEvent("payload is empty", field="data")
        if _looks_like_xml(payload, content_type):
            from ._xml import parse_xml

            if isinstance(payload, bytes):
                try:
                    payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidEvent("XML payload is not valid UTF-8", field="data") from None
            return None, parse_xml(payload)
        try:
            data = _json_loads()(payload)
        except RecursionError:
            raise InvalidEvent("payload is nested too deeply", field="data") from None
        except UnicodeDecodeError:
            raise InvalidEvent("payload is not valid UTF-8", field="data") from None
        except (ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidEvent(f"payload is not valid JSON: {reason}", field="data") from None
    else:
        data = payload
    if data.__class__ is not dict:
        if isinstance(data, Mapping):
            data = dict(data)
        else:
            what = "null" if data is None else type(data).__name__
            raise InvalidEvent(f"payload must be a JSON object, not {what}", field="data")
    return data, None


def parse_event(
    payload: bytes | bytearray | memoryview | str | Mapping[str, Any],
    *,
    name: str | None = None,
    content_type: str | None = "application/json",
    category: str | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Event:
    """Parse one vCenter event payload into its typed model.

    Args:
        payload: JSON or XML as bytes or text, or an already decoded mapping. Every producer
            form is accepted: PascalCase JSON (legacy govmomi, base fields flattened),
            lowerCamel JSON (govmomi >= 0.31), JSON with ``_typeName``, and XML.
        name: the wire class name (``"EnteredMaintenanceModeEvent"``). When not given, the
            class comes from ``_typeName``, the XML root (its ``xsi:type`` or element name),
            else ``Event``. An unknown name becomes the nearest known base class (``EventEx``
            when ``category`` is ``"eventex"``, the payload has an ``EventTypeId`` or the name
            is dotted like an EventEx id; ``ExtendedEvent`` for ``"extendedevent"``; else
            ``Event``) and ``event.class_name`` keeps the name.
        content_type: the payload's media type; XML when it mentions ``xml`` (or the text
            starts with ``<``), JSON otherwise.
        category: the CloudEvent category (``event``, ``eventex``, ``extendedevent``), used
            only to choose the base class of an unknown name.
        max_size: the largest payload accepted, in bytes (characters for text).

    Returns:
        An instance of the event class (``isinstance(ev, HostEvent)`` works as in vSphere).

    Raises:
        InvalidEvent: the payload is not a decodable event; the message is one line naming
            the field. No other exception escapes.
    """
    try:
        # Fast paths: a decoded mapping (the HTTP decoder's case) or JSON object bytes naming a
        # known class (what every producer sends).
        if payload.__class__ is dict and name is not None:
            known = _by_name.get(name)
            if known is not None:
                decoded: Event = known(payload, name)
                return decoded
        elif (
            payload.__class__ is bytes
            and payload[:1] == b"{"
            and len(payload) <= max_size
            and (content_type == "application/json" or content_type is None)
        ):
            structure = _by_name.get(name) if name is not None else None
            if structure is not None and name is not None:
                if _object_loads is None:
                    _json_loads()
                try:
                    data = _object_loads(payload)  # type: ignore[misc]
                except Exception:  # the full path below reports it properly
                    data = None
                if data.__class__ is dict:
                    fast: Event = structure(data, name)
                    return fast
        return _parse(payload, name, content_type, category, max_size)
    except InvalidEvent:
        raise
    except RecursionError:
        raise InvalidEvent("payload is nested too deeply", field="data") from None
    except Exception as exc:  # a last guard: parse_event raises only InvalidEvent
        raise InvalidEvent(
            f"payload could not be parsed ({type(exc).__name__})", field="data"
        ) from None


def _parse(
    payload: Any, name: str | None, content_type: str | None, category: str | None,
    max_size: int,
) -> Event:
    data, xml = _decode(payload, content_type, max_size)
    if name is not None and not isinstance(name, str):
        raise InvalidEvent("event name must be a string", field="name")
    if xml is not None:
        root, named = xml
        wanted = name or named or "Event"
        target = wanted if wanted in EVENTS else _nearest_base(wanted, category, {})
        from ._xml import read_object

        data = read_object(root, target)
        if target != wanted and target == "Event":
            target = _nearest_base(wanted, category, data)
    else:
        wanted = name or data.get("_typeName") or "Event"
        if wanted.__class__ is not str:
            raise InvalidEvent("'_typeName' must be a string", field="_typeName")
        target = wanted if wanted in EVENTS else _nearest_base(wanted, category, data)
    structure = _event_structurers.get(target)
    if structure is None:
        structure = _event_structurers[target] = _event_structurer(target)
        if target == wanted:
            _by_name[target] = structure
    event: Event = structure(data, wanted)
    return event


# --- to_dict ---------------------------------------------------------------------------------


def _format_time(dt: datetime) -> str:
    if dt.tzinfo is not None:
        dt = dt.astimezone(_UTC)
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}"
    )
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def _dump_value(value: Any, kind: str, camel: bool) -> Any:
    if value is None:
        return None
    if kind.startswith("list:"):
        item = kind[5:]
        return [_dump_value(v, item, camel) for v in value]
    if kind == "datetime" and isinstance(value, datetime):
        return _format_time(value)
    if kind == "moref" and hasattr(value, "value"):
        if camel:
            mo = {"type": value.type, "value": value.value}
            if value.server_guid is not None:
                mo["serverGuid"] = value.server_guid
        else:
            mo = {"Type": value.type, "Value": value.value}
            if value.server_guid is not None:
                mo["ServerGUID"] = value.server_guid
        return mo
    if kind in ARGUMENTS and hasattr(value, "__veba_fields__"):
        return _dump_object(value, all_fields(kind), camel, None)
    return value


# The PascalCase producers (event router, VSphereSource) were built with govmomi against API
# 8.0.3 at the newest: fields added later (``Tgw``, ``AuditId`` in 9.1) are absent from their
# JSON, so to_dict(style="pascal") writes them only when they hold a value.
LEGACY_API = (8, 0, 3)
_newer: dict[str, bool] = {}


def _newer_than_legacy(since: str) -> bool:
    newer = _newer.get(since)
    if newer is None:
        parts = tuple(int(p) for p in since.split(".") if p.isdigit())
        newer = _newer[since] = parts > LEGACY_API
    return newer


def _dump_object(
    obj: Any, fields: tuple[Field, ...], camel: bool, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(obj, f[0], None)
        if camel:
            if value is None or (f[4] and value in ("", ())):
                continue
            out[f[2]] = _dump_value(value, f[3], True)
        else:
            if value is None and _newer_than_legacy(f[5]):
                continue
            out[f[1]] = _dump_value(value, f[3], False)
    if extra:
        # A raw value kept under the other casing's name goes back under this one's.
        other = {f[1]: f[2] for f in fields} if camel else {f[2]: f[1] for f in fields}
        for key, value in extra.items():
            out[other.get(key, key)] = value
    return out


def to_dict(event: Event, style: str = "pascal") -> dict[str, Any]:
    """The event as the producer's JSON mapping.

    ``style="pascal"`` gives legacy govmomi's shape (event router, VSphereSource): every
    field present, ``null`` for ``None``. ``style="camel"`` gives govmomi >= 0.31's shape:
    lowerCamel keys, ``None`` left out, and empty strings and lists left out of optional
    fields. Times are RFC 3339 in UTC with trailing zeros of the fraction trimmed. Keys kept
    in ``event.extra`` (unknown fields, and raw values that could not be read) are written
    back as received, so a parsed payload round-trips.
    """
    if style not in ("pascal", "camel"):
        raise ValueError(f"style must be 'pascal' or 'camel', not {style!r}")
    name = type(event).__name__
    if name not in EVENTS:
        raise TypeError(f"to_dict expects a veba_sdk.events model, not {name}")
    return _dump_object(event, all_fields(name), style == "camel", event.extra)
