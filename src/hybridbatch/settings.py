"""Settings declared once: pydantic models whose fields (type, default, bounds, help) validate YAML files
and Python calls and generate the command-line flags (:func:`settings_options`).

A validation failure is one :class:`~hybridbatch.errors.ConfigError` line naming the flag (``--lr``), the
file and key (``train.yaml: lr``) or the key, e.g. ``--alpha must be in [0, 1], got 1.5``.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Self, get_args, get_origin

import annotated_types
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo

from hybridbatch.errors import ConfigError

#: Set while pydantic validates a Settings model, so that only the outermost ``Model(**values)`` call turns
#: a ValidationError into a one-line ConfigError (a model with its own ``__init__`` is validated through it).
_VALIDATING: ContextVar[bool] = ContextVar("settings_validating", default=False)


class Settings(BaseModel):
    """A settings model: unknown keys are errors, and invalid values raise one-line ConfigErrors.

    ``Model(**values)`` raises a one-line ConfigError instead of a ValidationError (nested validation
    and :meth:`validated` are unaffected: they never call ``__init__``).
    """

    model_config = ConfigDict(extra="forbid")

    def __init__(self, /, **values: Any) -> None:
        if _VALIDATING.get():  # nested, or inside model_validate: pydantic reports the error
            super().__init__(**values)
            return
        token = _VALIDATING.set(True)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe(exc, type(self))) from None
        finally:
            _VALIDATING.reset(token)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """pydantic's ``model_validate``: a ValidationError, as for any model."""
        token = _VALIDATING.set(True)
        try:
            return super().model_validate(obj, **kwargs)
        finally:
            _VALIDATING.reset(token)

    @classmethod
    def validated(cls, values: Mapping[str, Any], source: str = "", flags: Iterable[str] = ()) -> Self:
        """``cls`` from ``values``; errors name ``--flag`` for keys in ``flags``, else ``source: key``."""
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            raise ConfigError(describe(exc, cls, source, set(flags))) from None

    @classmethod
    def from_flags(cls, values: Mapping[str, Any]) -> Self:
        """``cls`` from a command's flags (no YAML file): every error names the flag, ``--model``."""
        return cls.validated(values, flags=cls.model_fields)


def flag_name(key: str) -> str:
    """``batch_size`` -> ``--batch-size``."""
    return "--" + key.replace("_", "-")


def model_flag(model: type[BaseModel], key: str) -> str:
    """The flag of setting ``key``: the model's own spelling (``FLAGS``: ``{"num_threads": "--threads"}``,
    several names separated by spaces) or :func:`flag_name`."""
    spelled = getattr(model, "FLAGS", {}).get(key)
    return spelled.split()[0] if spelled else flag_name(key)


def describe(
    exc: ValidationError, model: type[BaseModel], source: str = "", flags: set[str] = frozenset()
) -> str:
    """The first error of ``exc`` as one line naming the setting (see the module docstring)."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
    key = loc[-1] if loc else ""
    flat = getattr(model, "FLAT_NAMES", {}).get(key, key)
    given = key in flags or flat in flags
    label = model_flag(model, flat) if given else ".".join([*_user_loc(model, loc)[:-1], flat]) or "settings"
    where = f"{source}: " if source and not given else ""
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        known = ", ".join(_known_keys(model, loc[:-1]))
        return f"{where}unknown setting {key!r} (known: {known})"
    if kind == "missing":
        return f"{where}setting {label!r} is required"
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) else f", got {got!r}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than", "finite_number"):
        named = f"{label}: " if where or given else ""
        bounds = "a finite number" if kind == "finite_number" else _bounds(model, loc)
        return f"{where}{named}{flat.replace('_', ' ')} must be {bounds}{shown}{more}"
    if kind == "value_error":  # "VALUE: problem" reads "--flag VALUE: problem", else "--flag: problem"
        message = err["msg"].removeprefix("Value error, ")
        joint = " " if isinstance(got, str) and got and message.startswith(f"{got}: ") else ": "
        return f"{where}{label}{joint}{message}{more}"
    return f"{where}{label}: {err['msg']}{shown}{more}"


def _user_loc(model: type[BaseModel], loc: list[str]) -> list[str]:
    """The location as the user wrote it: nested groups a model flattens (``sampling``) are dropped."""
    flattened = getattr(model, "FLATTENED", ())
    return [p for i, p in enumerate(loc) if not (i == 0 and p in flattened and len(loc) > 1)]


def _field(model: type[BaseModel], loc: list[str]) -> FieldInfo | None:
    info: FieldInfo | None = None
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        current = next((a for a in _members(info.annotation) if isinstance(a, type)), None)
    return info


def _known_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    info = _field(model, loc) if loc else None
    target = next((a for a in _members(info.annotation) if isinstance(a, type)), model) if info else model
    flattened = getattr(target, "FLATTENED", ())
    keys = [k for k in target.model_fields if k not in flattened]
    for group in flattened:
        sub = next(a for a in _members(target.model_fields[group].annotation) if isinstance(a, type))
        keys += [getattr(target, "FLAT_NAMES", {}).get(k, k) for k in sub.model_fields]
    return keys


def _bounds(model: type[BaseModel], loc: list[str]) -> str:
    """``in [0, 1]``, ``>= 2``, ``> 0`` … from the field's declared bounds (empty when none)."""
    info = _field(model, loc)
    if info is None:
        return ""
    low = high = None
    for meta in [*info.metadata, *_item_bounds(info.annotation)]:
        if isinstance(meta, annotated_types.Ge):
            low = ("[", meta.ge)
        elif isinstance(meta, annotated_types.Gt):
            low = ("(", meta.gt)
        elif isinstance(meta, annotated_types.Le):
            high = ("]", meta.le)
        elif isinstance(meta, annotated_types.Lt):
            high = (")", meta.lt)
    if low and high:
        return f"in {low[0]}{_num(low[1])}, {_num(high[1])}{high[0]}"
    if low:
        return f"{'>=' if low[0] == '[' else '>'} {_num(low[1])}"
    if high:
        return f"{'<=' if high[0] == ']' else '<'} {_num(high[1])}"
    return "a finite number"


def _item_bounds(annotation: Any) -> list[Any]:
    """The bounds of a list field's items (``list[Probability]``): checked per item, named as the field."""
    lists = [m for m in _members(annotation) if get_origin(m) is list]
    item = get_args(lists[0])[0] if lists else None
    if get_origin(item) is not Annotated:
        return []
    metadata = get_args(item)[1:]
    return [b for meta in metadata for b in (meta.metadata if isinstance(meta, FieldInfo) else [meta])]


def _num(value: Any) -> str:
    return f"2**{value.bit_length() - 1}" if isinstance(value, int) and value > 2**32 else f"{value:g}"


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types of a (possibly optional, possibly ``Annotated``) annotation."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(m for arg in get_args(annotation) for m in _members(arg))
    return (annotation,)


# --- YAML ---------------------------------------------------------------------------------------
def read_yaml_config(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML settings file, keys with ``-`` normalised to ``_`` (ConfigError otherwise)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid YAML: not UTF-8 text") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: invalid YAML: {first}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of settings, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ConfigError(f"{path}: key {key!r} is not a string")
        out[key.replace("-", "_")] = value
    return out


# --- command-line flags -------------------------------------------------------------------------
def settings_options(
    fields: Mapping[str, FieldInfo], flags: Mapping[str, str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a Typer command ``f(..., settings: dict)`` with one ``--flag`` per field of ``fields``.

    Every generated flag defaults to ``None`` (unset, so YAML values and model defaults apply) and shows
    the field's description and default; list fields are repeatable and take comma lists; bools are
    ``--x/--no-x`` (a field ``no_x`` is the switch ``--no-x``). ``flags`` renames flags
    (``{"num_threads": "--threads"}``, ``{"k": "-k --k"}``). The command receives the given flags as
    ``settings`` (field name -> value), validated later by the settings model. The decorated command's
    ``settings_flags`` maps each generated flag to its field (tests/test_command_settings.py).
    """
    import typer

    flags = dict(flags or {})

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        hints = typing.get_type_hints(command, include_extras=True)
        own = [
            p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "settings"
        ]
        generated = [_parameter(name, info, flags.get(name), typer) for name, info in fields.items()]

        def wrapper(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(name, None) for name in fields}
            settings = {name: value for name, value in given.items() if value is not None}
            for name, value in settings.items():
                if _is_list(fields[name].annotation):
                    settings[name] = [
                        part.strip() for item in value for part in str(item).split(",") if part.strip()
                    ]
            return command(**kwargs, settings=settings)

        wrapper.__signature__ = signature.replace(parameters=[*own, *generated])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *generated]}
        wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
        wrapper.settings_flags = {  # type: ignore[attr-defined]
            decl: info
            for name, info in fields.items()
            for decl in (flags.get(name) or flag_name(name)).split()
        }
        return wrapper

    return decorate


def _parameter(name: str, info: FieldInfo, flag: str | None, typer: Any) -> inspect.Parameter:
    members = [m for m in _members(info.annotation) if m is not type(None)]
    base = members[0]
    if _is_list(info.annotation):
        kind: Any = list[str]
    elif base in (bool, int, float, Path):
        kind = base
    else:
        kind = str
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    shown = (",".join(map(str, default)) or None) if isinstance(default, list) else default
    help_text = (info.description or "").rstrip(".") + (f" [default: {shown}]" if shown is not None else "")
    decls = (flag or flag_name(name)).split()  # "-k --k": several names
    if kind is bool and not name.startswith("no_"):  # --x/--no-x; a field no_x is the switch --no-x
        decls = [f"{decls[0]}/--no-{decls[0].removeprefix('--')}"]
    metavar = {bool: None, int: "INT", float: "NUMBER", Path: "PATH", str: "TEXT"}.get(kind, "A,B")
    option = typer.Option(*decls, help=help_text, show_default=False, metavar=metavar)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind | None, option]
    )


def _is_list(annotation: Any) -> bool:
    return any(get_origin(m) is list for m in _members(annotation))
