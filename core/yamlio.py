"""Strict YAML reading for tenant files and case files.

The file means what a person reads in it: every plain scalar is a string unless it is ``true``,
``false`` or ``null`` (so ``number: 0012`` stays "0012", ``0.1`` stays exactly "0.1" for Decimal,
``2026-09`` stays a period); a duplicate key is an error. Numbers are converted by the validator
that knows the field's type.
"""
from __future__ import annotations

import re
from typing import Any

import yaml


class YamlError(ValueError):
    """The text is not valid YAML for Jixiao; the message gives the line."""


class StrictLoader(yaml.SafeLoader):
    pass


# Keep only the null and bool resolvers (bools restricted to true/false); everything else is a string.
StrictLoader.yaml_implicit_resolvers = {}
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""])


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise YamlError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}; "
                            f"each key may appear once in a mapping")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_strict(text: str) -> Any:
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlError(f"{where}{getattr(exc, 'problem', None) or exc}") from None
