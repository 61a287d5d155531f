"""Every command's flags come from its settings model (issue 20): each flag of every command of the Typer
app maps to a pydantic field with a type, a default (or is required) and help; a YAML key and a flag
of the same setting with a bad value are rejected with the same message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import annotated_types
import pytest
import typer.main
from pydantic.fields import FieldInfo

from hybridbatch.cli import app
from hybridbatch.commands.comparison import COMPARE_FIELDS
from hybridbatch.commands.training import TRAIN_FIELDS
from hybridbatch.settings import flag_name

#: Not a setting: the YAML file the settings are read from, and click's own --help.
NOT_SETTINGS = {"--help", "--config"}
#: Flags a command still declares itself instead of in its settings model (issue 20, part 2). Listed
#: so that the test fails when one is added, and when one is fixed (then it must leave this table).
NOT_YET: dict[str, set[str]] = {}


def _commands(group: typer.Typer, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(name, callback)`` of every command of ``group`` and its subgroups, e.g. ``data info``."""
    for info in group.registered_commands:
        yield f"{prefix}{info.name}", info.callback
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, f"{prefix}{sub.name} ")


def _click_command(name: str) -> Any:
    command = typer.main.get_command(app)
    for part in name.split():
        command = command.commands[part]  # type: ignore[attr-defined]
    return command


COMMANDS = dict(_commands(app))


def test_the_walk_finds_every_command() -> None:
    expected = {"evaluate", "evaluate-retrieval", "index", "search", "serve", "neutralize", "merge"}
    expected |= {"train", "batches", "compare", "study", "data info", "data export", "data translate"}
    assert set(COMMANDS) == expected | {"models build", "models info"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_flag_is_a_documented_field_of_the_command_settings(name: str) -> None:
    fields: dict[str, FieldInfo] = getattr(COMMANDS[name], "settings_flags", {})
    own: set[str] = set()
    for param in _click_command(name).params:
        if param.param_type_name != "option":
            continue
        flags = [*param.opts, *param.secondary_opts]
        field = next((fields[f] for f in flags if f in fields), None)
        if field is None:
            own |= set(flags) - NOT_SETTINGS - {f for f in flags if f.startswith("--no-")}
            continue
        assert field.annotation is not None, f"{name} {flags[0]}: no type"
        assert field.description, f"{name} {flags[0]}: no help"
        assert param.help and param.help.startswith(field.description.rstrip(".")), (name, flags)
        assert field.is_required() or "default" in repr(field), f"{name} {flags[0]}: no default"
        if not field.is_required() and field.get_default(call_default_factory=True) not in (None, []):
            assert "[default: " in param.help, f"{name} {flags[0]}: default not shown"
    assert own == NOT_YET.get(name, set()), f"{name}: flags outside its settings model"


def _bad_value(info: FieldInfo) -> str | None:
    """A value below a numeric field's lower bound (None for a field without one)."""
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            return str(meta.ge - 1)
        if isinstance(meta, annotated_types.Gt):
            return str(meta.gt - 1)
    return None


def _cases(fields: dict[str, FieldInfo], renamed: dict[str, str]) -> list[tuple[str, str, str]]:
    cases = [(renamed.get(k, flag_name(k)), k, _bad_value(v)) for k, v in fields.items()]
    return [(flag, key, value) for flag, key, value in cases if value is not None]


YAML_CASES = [("train", *case) for case in _cases(TRAIN_FIELDS, {"num_threads": "--threads"})] + [
    ("compare", *case) for case in _cases(COMPARE_FIELDS, {"alphas": "--alpha"})
]
YAML_CASES += [
    ("train", "--sampler", "sampler", "zz"),
    ("compare", "--precision", "precision", "fp64"),
]


@pytest.mark.parametrize(("command", "flag", "key", "value"), YAML_CASES, ids=lambda v: str(v))
def test_a_yaml_key_and_its_flag_are_rejected_with_the_same_message(
    cli, tmp_path, command, flag, key, value
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"{key}: {value}\n", encoding="utf-8")
    base = [command, "--out", str(tmp_path / "out")]
    code, _, by_flag = cli(*base, f"{flag}={value}")
    assert code == 2 and by_flag.startswith("error: ") and by_flag.count("\n") == 1, by_flag
    code, _, by_key = cli(*base, "--config", str(config))
    assert code == 2, by_key
    assert by_key.replace(f"{config}: {key}", flag) == by_flag
    assert not (tmp_path / "out").exists()
