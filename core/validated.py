"""Validated configuration models without pydantic: the settings, policy and programme rules.

Importing pydantic and building the schemas of the ~20 configuration models was the largest
part of an admin command's start (about half of it). This is the part of pydantic those
models used, as plain classes: typed fields with defaults, coercion of TOML, JSON and
environment text as pydantic's lax mode does it (``"5"`` → 5, ``"yes"`` → True, ``"21:00"`` →
a time), ``ge``/``gt``/``le`` bounds, nullable fields, lists, tuples, tables, nested models,
field and model validators, and pydantic's error messages word for word — the settings
reader shows them to operators (``配置错误 / bad setting BANGFU_…: <message>``).

What a model offers: ``Model(**values)`` and ``Model.model_validate(data)`` validate (a
``ValidationError``, a ``ValueError``, names the first wrong value by its path),
``model_copy(update=…)`` (not validated, as pydantic), ``model_dump()``, ``model_fields``,
equality and a repr field by field. Unknown keys are ignored, or refused when the class sets
``forbid_extra = True``.
"""

from __future__ import annotations

import copy
import math
import re
import types
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, time, timedelta, timezone
from typing import Any, ClassVar, Literal, Union

_MISSING: Any = object()


class ValidationError(ValueError):
    """The first wrong value: `loc` is its path (names, list indexes, table keys)."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(f"{'.'.join(str(p) for p in loc) or 'value'}: {msg}")
        self.loc = loc
        self.msg = msg

    def errors(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.msg}]


class _Invalid(Exception):
    """A wrong value at a path relative to the value being validated."""

    def __init__(self, msg: str, loc: tuple[str | int, ...] = ()) -> None:
        self.msg = msg
        self.loc = loc


class SecretStr:
    """A text kept out of reprs and logs; `get_secret_value()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"SecretStr({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


class FieldInfo:
    """One field: its type (`annotation`, Annotated's extras in `metadata`), default, bounds."""

    __slots__ = ("annotation", "default", "default_factory", "ge", "gt", "le", "metadata")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | None = None,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.ge, self.gt, self.le = ge, gt, le
        self.annotation: Any = None
        self.metadata: list[Any] = []

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        if isinstance(self.default, list | dict | set):
            return copy.copy(self.default)
        return self.default


def Field(
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
) -> Any:
    return FieldInfo(default, default_factory, ge, gt, le)


def field_validator(
    *names: str, mode: Literal["before", "after"] = "after"
) -> Callable[[Any], Any]:
    """A classmethod `(cls, value) -> value` run on the named fields before or after their
    type's validation; a ValueError it raises becomes "Value error, <message>"."""

    def mark(method: Any) -> Any:
        method.__validates__ = ("field", names, mode)
        return method

    return mark


def model_validator(*, mode: Literal["before", "after"]) -> Callable[[Any], Any]:
    """A model's validator: with mode "before" a classmethod given the raw input, returning
    the input to validate; with "after" a method of the built model, returning it."""

    def mark(method: Any) -> Any:
        method.__validates__ = ("model", (), mode)
        return method

    return mark


class _Schema:
    """A model class's fields and validators, resolved at its first validation."""

    def __init__(self, cls: type[Model]) -> None:
        hints = typing.get_type_hints(cls, include_extras=True)
        self.fields: dict[str, FieldInfo] = {}
        for name, hint in hints.items():
            if typing.get_origin(hint) is ClassVar or name.startswith("_"):
                continue
            info = _declared(cls, name)
            if typing.get_origin(hint) is typing.Annotated:
                info.annotation, *info.metadata = typing.get_args(hint)
            else:
                info.annotation = hint
            self.fields[name] = info
        self.before_fields: dict[str, list[Any]] = {}
        self.after_fields: dict[str, list[Any]] = {}
        self.before_model: list[Any] = []
        self.after_model: list[Any] = []
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                mark = getattr(attr, "__validates__", None)
                if mark is None and isinstance(attr, classmethod):
                    mark = getattr(attr.__func__, "__validates__", None)
                if mark is None:
                    continue
                kind, names, mode = mark
                if kind == "model":
                    (self.before_model if mode == "before" else self.after_model).append(attr)
                    continue
                table = self.before_fields if mode == "before" else self.after_fields
                for name in names:
                    table.setdefault(name, []).append(attr)


def _declared(cls: type, name: str) -> FieldInfo:
    for klass in cls.__mro__:
        if name in vars(klass):
            value = vars(klass)[name]
            return copy.copy(value) if isinstance(value, FieldInfo) else FieldInfo(value)
    return FieldInfo()


class _ModelMeta(type):
    @property
    def model_fields(cls) -> dict[str, FieldInfo]:
        return _schema(cls).fields  # type: ignore[arg-type]


def _schema(cls: type[Model]) -> _Schema:
    schema = cls.__dict__.get("_schema_")
    if schema is None:
        schema = _Schema(cls)
        cls._schema_ = schema
    return schema


class Model(metaclass=_ModelMeta):
    """A validated configuration model (see the module's docstring)."""

    forbid_extra: ClassVar[bool] = False
    _schema_: ClassVar[_Schema | None] = None

    def __init__(self, **data: Any) -> None:
        try:
            _fill(self, data)
        except _Invalid as exc:
            raise ValidationError(exc.loc, exc.msg) from None

    @classmethod
    def model_validate(cls, data: Any) -> typing.Self:
        if isinstance(data, cls):
            return data
        try:
            return typing.cast(typing.Self, _build(cls, data))
        except _Invalid as exc:
            raise ValidationError(exc.loc, exc.msg) from None

    def model_copy(self, *, update: dict[str, Any] | None = None) -> typing.Self:
        new = copy.copy(self)
        new.__dict__.update(update or {})
        return new

    def model_dump(self) -> dict[str, Any]:
        return {name: _dump(value) for name, value in self._items()}

    def _items(self) -> Iterator[tuple[str, Any]]:
        for name in _schema(type(self)).fields:
            yield name, self.__dict__[name]

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self._items()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._items())
        return f"{type(self).__name__}({inner})"


def _dump(value: Any) -> Any:
    if isinstance(value, Model):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return type(value)(_dump(v) for v in value)
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _value_error(exc: ValueError) -> _Invalid:
    return _Invalid(f"Value error, {exc}")


def _build(cls: type[Model], data: Any) -> Model:
    model = cls.__new__(cls)
    _fill(model, data)
    return model


def _fill(model: Model, data: Any) -> None:
    cls = type(model)
    schema = _schema(cls)
    for validator in schema.before_model:
        try:
            data = validator.__get__(None, cls)(data)
        except ValueError as exc:
            raise _value_error(exc) from None
    if not isinstance(data, dict):
        raise _Invalid(f"Input should be a valid dictionary or instance of {cls.__name__}")
    values = model.__dict__
    for name, info in schema.fields.items():
        if name in data:
            values[name] = _field(schema, cls, name, info, data[name])
        elif info.default is _MISSING and info.default_factory is None:
            raise _Invalid("Field required", (name,))
        elif cls.forbid_extra:  # validates its defaults too (they pass: no effect but cost)
            values[name] = _field(schema, cls, name, info, info.make_default())
        else:
            values[name] = info.make_default()
    if cls.forbid_extra:
        for key in data:
            if key not in schema.fields:
                raise _Invalid("Extra inputs are not permitted", (key,))
    for validator in schema.after_model:
        try:
            validator.__get__(model, cls)()
        except ValueError as exc:
            raise _value_error(exc) from None


def _field(schema: _Schema, cls: type, name: str, info: FieldInfo, value: Any) -> Any:
    try:
        for validator in schema.before_fields.get(name, ()):
            try:
                value = validator.__get__(None, cls)(value)
            except ValueError as exc:
                raise _value_error(exc) from None
        value = _check(info.annotation, value)
        if info.le is not None or info.ge is not None or info.gt is not None:
            _bounds(info, value)
        for validator in schema.after_fields.get(name, ()):
            try:
                value = validator.__get__(None, cls)(value)
            except ValueError as exc:
                raise _value_error(exc) from None
    except _Invalid as exc:
        exc.loc = (name, *exc.loc)
        raise
    return value


def _bounds(info: FieldInfo, value: Any) -> None:
    if value is None:
        return
    # pydantic's order: le, then ge, then gt (so NaN fails "le" first).
    if info.le is not None and not value <= info.le:
        raise _Invalid(f"Input should be less than or equal to {info.le}")
    if info.ge is not None and not value >= info.ge:
        raise _Invalid(f"Input should be greater than or equal to {info.ge}")
    if info.gt is not None and not value > info.gt:
        raise _Invalid(f"Input should be greater than {info.gt}")


def _check(kind: Any, value: Any) -> Any:
    """`value` as `kind` (coerced as pydantic's lax mode does), or _Invalid."""
    origin = typing.get_origin(kind)
    if origin is None:
        checker = _SIMPLE.get(kind)
        if checker is not None:
            return checker(value)
        if isinstance(kind, type) and issubclass(kind, Model):
            return value if isinstance(value, kind) else _build(kind, value)
        raise TypeError(f"no validation for {kind!r}")
    args = typing.get_args(kind)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"only X | None unions are validated, not {kind!r}")
        return None if value is None else _check(inner[0], value)
    if origin is Literal:
        if isinstance(value, str) and value in args:
            return value
        words = [repr(a) for a in args]
        said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
        raise _Invalid(f"Input should be {said}")
    if origin is list or origin is tuple:
        if not isinstance(value, list | tuple | set | frozenset):
            raise _Invalid(f"Input should be a valid {origin.__name__}")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_check(args[0], item))
            except _Invalid as exc:
                exc.loc = (index, *exc.loc)
                raise
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise _Invalid("Input should be a valid dictionary")
        out = {}
        for key, item in value.items():
            try:
                out[_str(key)] = _check(args[1], item)
            except _Invalid as exc:
                exc.loc = (key, *exc.loc)
                raise
        return out
    if origin is typing.Annotated:
        return _check(args[0], value)
    raise TypeError(f"no validation for {kind!r}")


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}
_INT_TEXT = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0*)?", re.ASCII)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    unable = "Input should be a valid boolean, unable to interpret input"
    if isinstance(value, str):
        word = value.lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise _Invalid(unable)
    if isinstance(value, int | float) and (isinstance(value, int) or value.is_integer()):
        if value in (0, 1):
            return bool(value)
        raise _Invalid(unable)
    raise _Invalid("Input should be a valid boolean")


def _int(value: Any) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid("Input should be a finite number")
        if not value.is_integer():
            raise _Invalid("Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.fullmatch(text):
            return int(text.partition(".")[0])
        raise _Invalid("Input should be a valid integer, unable to parse string as an integer")
    raise _Invalid("Input should be a valid integer")


def _float(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Invalid(
                "Input should be a valid number, unable to parse string as a number"
            ) from None
    raise _Invalid("Input should be a valid number")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("Input should be a valid string")


def _secret(value: Any) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(_str(value))


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    bad = "Input should be in a valid time format, "
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise _Invalid(bad + "time in seconds should be positive")
        if not value < 86_400:
            raise _Invalid(bad + "numeric times may not exceed 86,399 seconds")
        whole = int(value)
        micro = round((value - whole) * 1_000_000)
        return time(whole // 3600, whole // 60 % 60, whole % 60, micro, tzinfo=UTC)
    if not isinstance(value, str):
        raise _Invalid("Input should be a valid time")
    try:
        return _parse_time(value)
    except _Invalid as exc:
        raise _Invalid(bad + exc.msg) from None


def _digits(raw: bytes, at: int, what: str) -> int:
    pair = raw[at : at + 2]
    if len(pair) < 2 or not pair.isdigit():
        raise _Invalid(f"invalid character in {what}")
    return int(pair)


def _parse_time(text: str) -> time:
    """HH:MM[:SS[.ffffff]][Z|±HH[:]MM] with speedate's checks and messages, in its order
    (pydantic parses times with speedate, over the UTF-8 bytes)."""
    raw = text.encode()
    if len(raw) < 5:
        raise _Invalid("input is too short")
    hour = _digits(raw, 0, "hour")
    if raw[2:3] != b":":
        raise _Invalid("invalid time separator, expected `:`")
    minute = _digits(raw, 3, "minute")
    if hour > 23:
        raise _Invalid("hour value is outside expected range of 0-23")
    if minute > 59:
        raise _Invalid("minute value is outside expected range of 0-59")
    second = micro = 0
    at = 5
    if raw[at : at + 1] == b":":
        second = _digits(raw, at + 1, "second")
        if second > 59:
            raise _Invalid("second value is outside expected range of 0-59")
        at += 3
        if raw[at : at + 1] in (b".", b","):
            found = re.match(rb"[0-9]*", raw[at + 1 :])
            digits = found.group() if found else b""
            if not digits:
                raise _Invalid("second fraction digits missing after `.`")
            micro = int(digits[:6].ljust(6, b"0"))
            at += 1 + len(digits)
    zone = None
    if at < len(raw):
        sign = raw[at : at + 1]
        if sign in (b"Z", b"z"):
            zone = UTC
            at += 1
        elif sign in (b"+", b"-"):
            tz_hour = _zone_part(raw, at + 1, "hour")
            at += 3
            if raw[at : at + 1] == b":":
                at += 1
            tz_minute = _zone_part(raw, at, "minute")
            at += 2
            if tz_hour >= 24:
                raise _Invalid("timezone offset must be less than 24 hours")
            if tz_minute > 59:
                raise _Invalid("timezone minute value is outside expected range of 0-59")
            offset = timedelta(hours=tz_hour, minutes=tz_minute)
            zone = timezone(offset if sign == b"+" else -offset)
        else:
            raise _Invalid("invalid timezone sign")
        if at < len(raw):
            raise _Invalid("unexpected extra characters at the end of the input")
    return time(hour, minute, second, micro, tzinfo=zone)


def _zone_part(raw: bytes, at: int, what: str) -> int:
    pair = raw[at : at + 2]
    if len(pair) < 2 or not pair.isdigit():
        raise _Invalid(f"invalid timezone {what}")
    return int(pair)


_SIMPLE: dict[Any, Callable[[Any], Any]] = {
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    SecretStr: _secret,
    time: _time,
    Any: lambda value: value,
}
