"""Config YAML read defensively: bounded size, no aliases, no duplicate keys, no giant numbers.

Why: a config is small, hand-written text. YAML aliases let a few hundred bytes expand to
gigabytes once the structure is copied (``dataclasses.asdict`` when the config is dumped
into the run directory), duplicate keys silently keep the last value, and an integer with
thousands of digits makes ``int()`` raise ValueError instead of YAMLError. Each becomes one
``ConfigYAMLError`` naming the line and the fix.
"""

from __future__ import annotations

from typing import Any

MAX_CONFIG_BYTES = 256 * 1024  # a real config is a few KB; the example with every key is ~3 KB
MAX_NUMBER_DIGITS = 40  # no config number needs more; int() refuses past 4300 digits anyway


class ConfigYAMLError(ValueError):
    """The text cannot be a config: ``message`` says why and where, ``fix`` what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def _line(node_or_mark: Any) -> str:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    line = getattr(mark, "line", None)
    return f" at line {line + 1}" if isinstance(line, int) else ""


def _loader_class() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader that refuses aliases and duplicate keys and checks numbers' length."""

        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise ConfigYAMLError(
                    f"uses a YAML alias (*{event.anchor}){_line(event)}",
                    "Write the value out in full: aliases and anchors (& and *) are not allowed in a run config.",
                )
            event = self.peek_event()
            if getattr(event, "anchor", None):
                raise ConfigYAMLError(
                    f"defines a YAML anchor (&{event.anchor}){_line(event)}",
                    "Write the value out in full: aliases and anchors (& and *) are not allowed in a run config.",
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            seen: dict[object, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise ConfigYAMLError(
                        f"has the key '{key}' twice (lines {seen[key]} and {line})",
                        "Keep one of them: YAML would silently use the last one.",
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
            digits = sum(ch.isdigit() for ch in str(node.value))
            if digits > MAX_NUMBER_DIGITS:
                raise ConfigYAMLError(
                    f"has a number with {digits} digits{_line(node)}",
                    "Use a realistic value; every number in a config fits in a few digits.",
                )
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node):  # type: ignore[no-untyped-def]
            if sum(ch.isdigit() for ch in str(node.value)) > MAX_NUMBER_DIGITS * 10:
                raise ConfigYAMLError(
                    f"has a number that is far too long{_line(node)}",
                    "Use a realistic value; every number in a config fits in a few digits.",
                )
            return super().construct_yaml_float(node)

    StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
    StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
    return StrictLoader


def load_config_yaml(text: str) -> Any:
    """The YAML document in ``text``; ConfigYAMLError for the hazards above, yaml.YAMLError for bad syntax."""

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigYAMLError(
            f"is {size:,} bytes; a run config is at most {MAX_CONFIG_BYTES // 1024} KB",
            "Is this the right file? 'ftui train --example' shows a config.",
        )
    loader = _loader_class()(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise ConfigYAMLError("is nested too deeply", "A run config is a flat mapping of key: value.") from None
    finally:
        loader.dispose()
