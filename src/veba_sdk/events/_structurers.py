"""Structuring functions: the code that turns a decoded payload into an event model.

The first time a class is parsed, a structuring function for it is written as Python source
from the catalogue and compiled with ``exec``: generated code because it is fast. It reads the
wire keys with ``dict.get`` and checks each value's type with one ``__class__`` comparison,
with no per-field loop, lookup or call on the common path; ``benchmarks/bench_parse.py``
measures it against ``json.loads`` alone and against cattrs' generic structuring. A payload
whose keys are all known in one casing (the common case) takes that straight path, anything
else is first normalised key by key (:func:`~._converters.pick`). Fields of other kinds go
through the converters of ``_converters``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._catalogue import ARGUMENTS, Field
from ._converters import CONVERTERS, Odd, list_of, moref_class, pick
from ._models import all_fields, get_class

__all__ = ["known_structurer", "structurer_for"]

_SCALAR_CLASS = {"int": "int", "str": "str", "bool": "bool", "float": "float"}


class _Deferred:
    """An argument type's structuring function, compiled on its first call.

    An event class refers to up to a dozen argument types; most payloads carry a few, and the
    common shapes are built inline by the event's own code. Once compiled, the function
    replaces this object in ``CONVERTERS`` and in the namespaces of the generated code.
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
            CONVERTERS[self.kind] = fn
            for namespace, key in self.users:
                namespace[key] = fn
            self.users.clear()
        return fn(v)


def _converter(kind: str) -> Callable[[Any], Any]:
    conv = CONVERTERS.get(kind)
    if conv is None:
        conv = list_of(_converter(kind[5:])) if kind.startswith("list:") else _Deferred(kind)
        CONVERTERS[kind] = conv
    return conv


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
    """Source lines converting local ``f{i}`` in place; ``odd`` handles an Odd ``e``."""
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
            tests.append(
                f"({a_var} := {var}[{a[1]!r}]).__class__ is {_INLINE_KINDS[a[3]] or 'dict'}"
            )
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
    ns: dict[str, Any] = {
        "_Odd": Odd,
        "_new": object.__new__,
        "_Mo": moref_class(),
        "_pick": pick,
        "_cls": cls,
        "_P": frozenset([f[1] for f in fields] + ["_typeName"]),
        "_C": frozenset([f[2] for f in fields] + ["_typeName"]),
        "_Pd": frozenset([f[1] for f in fields] + ["_typeName"]).issuperset,
        "_Cd": frozenset([f[2] for f in fields] + ["_typeName"]).issuperset,
        "_INDEX": {
            **{f[1]: i for i, f in enumerate(fields)},
            **{f[2]: i for i, f in enumerate(fields)},
        },
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
    """Compile ``(value) -> argument instance`` for an argument type; raises Odd."""
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


def structurer_for(target: str, wanted: str) -> Callable[[dict[str, Any], str], Any]:
    """The structuring function of event class ``target``, compiled on first use, for an event
    named ``wanted``; when they are the same, :data:`known_structurer` knows it from now on."""
    structure = _event_structurers.get(target)
    if structure is None:
        structure = _event_structurers[target] = _event_structurer(target)
        if target == wanted:
            _by_name[target] = structure
    return structure
