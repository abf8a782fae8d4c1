"""Raw values (YAML scalars, ``--set KEY=VALUE`` text) to a type hint, with a short reason on failure.

Generic over the hint, so ``ftui.config`` keeps only what is particular to a RunConfig field
(its name, the ``auto`` switches, the size limits). No ``ftui`` import: this sits at the bottom.
"""

from __future__ import annotations

import types
import typing

_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}
_NULL = ("", "null", "none", "~")


def coerce(value: object, hint: object) -> object:
    """``value`` as the type ``hint`` (a union tries each member); ValueError("must be ...") if none fits."""
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    options = typing.get_args(hint) if union else (hint,)
    if type(None) in options:
        if value is None or (isinstance(value, str) and value.strip().lower() in _NULL):
            return None
        options = tuple(o for o in options if o is not type(None))
    # Try the options in an order that keeps "2" an int for ``int | str`` and "q,v" a list for ``str | list``.
    reasons = []
    ordered = sorted(options, key=lambda o: {bool: 0, int: 1, float: 2}.get(o, 3))  # type: ignore[arg-type]
    if str in ordered and any(typing.get_origin(o) is list for o in ordered) and isinstance(value, str):
        if "," in value:
            ordered = [o for o in ordered if o is not str] + [str]
    for option in ordered:
        try:
            return _coerce_one(value, option)
        except ValueError as exc:
            reasons.append(str(exc))
    raise ValueError(" or ".join(dict.fromkeys(reasons)) or "has the wrong type")


def _coerce_one(value: object, hint: object) -> object:
    """Coerce ``value`` to the (non-union) type ``hint`` or raise ValueError with a short reason."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if value in choices:
            return value
        raise ValueError(f"must be one of {', '.join(map(str, choices))}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("must be true or false")
    if hint is int:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError("must be a whole number") from None
            if number.is_integer():
                return int(number)
        raise ValueError("must be a whole number")
    if hint is float:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise ValueError("must be a number") from None
        raise ValueError("must be a number")
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ValueError("must be text")
    if origin is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValueError("must be a list of names")
    if hint is dict or origin is dict:
        if isinstance(value, dict):
            return dict(value)
        raise ValueError("must be a mapping of key: value")
    return value
