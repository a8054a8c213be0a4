"""Configuration: string keys to values, PyFlink's ``pyflink.common.Configuration`` surface.

Values are kept as given (strings from YAML/``-D``, or Python values) and parsed on read through the
typed :class:`~yflink.common.config_options.ConfigOption` when one is registered for the key, so a bad
value is reported with its key the moment it is used, and :meth:`validate` reports all at once.

Files use Flink 2's ``config.yaml`` format: nested YAML mappings flatten to dotted keys
(``taskmanager: {numberOfTaskSlots: 2}`` is ``taskmanager.numberOfTaskSlots: 2``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml

from yflink.common import config_options as opts
from yflink.common.config_options import ConfigOption
from yflink.common.errors import ConfigurationError

T = TypeVar("T")
log = logging.getLogger(__name__)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


class Configuration:
    """A mutable map of configuration keys (PyFlink ``Configuration``)."""

    def __init__(self, other: Configuration | None = None) -> None:
        self._data: dict[str, Any] = dict(other._data) if other is not None else {}

    # --- PyFlink's typed getters and setters -----------------------------------------------
    def get_string(self, key: str, default_value: str) -> str:
        value = self._data.get(key)
        return default_value if value is None else str(value)

    def set_string(self, key: str, value: str) -> Configuration:
        self._data[key] = value
        return self

    def get_integer(self, key: str, default_value: int) -> int:
        value = self._data.get(key)
        return default_value if value is None else ConfigOption(key, opts._parse_int, None, "").parse(value)

    def set_integer(self, key: str, value: int) -> Configuration:
        self._data[key] = int(value)
        return self

    def get_float(self, key: str, default_value: float) -> float:
        value = self._data.get(key)
        return default_value if value is None else ConfigOption(key, opts._parse_float, None, "").parse(value)

    def set_float(self, key: str, value: float) -> Configuration:
        self._data[key] = float(value)
        return self

    def get_boolean(self, key: str, default_value: bool) -> bool:
        value = self._data.get(key)
        return default_value if value is None else ConfigOption(key, opts._parse_bool, None, "").parse(value)

    def set_boolean(self, key: str, value: bool) -> Configuration:
        self._data[key] = bool(value)
        return self

    def contains_key(self, key: str) -> bool:
        return key in self._data

    def remove_config(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    def add_all(self, other: Configuration, prefix: str | None = None) -> Configuration:
        for k, v in other._data.items():
            self._data[f"{prefix}{k}" if prefix else k] = v
        return self

    def key_set(self) -> set[str]:
        return set(self._data)

    def to_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self._data.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return f"Configuration({self._data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Configuration) and other._data == self._data

    # --- typed access through ConfigOption ----------------------------------------------------
    def get(self, option: ConfigOption[T]) -> T:
        """The parsed value of ``option`` (its default when unset); ConfigurationError on a bad value."""
        for key in (option.key, *option.deprecated_keys):
            if key in self._data and self._data[key] is not None:
                return option.parse(self._data[key])
        return option.default  # type: ignore[return-value]

    def set(self, option: ConfigOption[T] | str, value: Any) -> Configuration:
        key = option if isinstance(option, str) else option.key
        self._data[key] = value
        return self

    def raw(self) -> dict[str, Any]:
        """A copy of the unparsed key/value map."""
        return dict(self._data)

    def validate(self) -> list[str]:
        """Parse every known key; raise ConfigurationError for the first bad value.

        Returns the keys yflink does not know (they are kept, and warned about by the caller).
        """
        unknown = []
        for key, value in self._data.items():
            option = opts.REGISTRY.get(key)
            if option is None:
                unknown.append(key)
            elif value is not None:
                option.parse(value)
        return unknown

    # --- files and overrides ------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Configuration:
        """Load a Flink 2 ``config.yaml``; raises ConfigurationError naming the file on bad YAML."""
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"{path} must hold a YAML mapping of keys to values")
        flat: dict[str, Any] = {}
        _flatten("", loaded, flat)
        conf = cls()
        conf._data.update(flat)
        return conf

    def apply_dynamic_properties(self, properties: list[str]) -> Configuration:
        """Apply ``key=value`` strings (the CLI's ``-D``); raises ConfigurationError on a malformed one."""
        for prop in properties:
            key, sep, value = prop.partition("=")
            if not sep or not key.strip():
                raise ConfigurationError(f"-D expects key=value, got {prop!r}")
            self._data[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        return self


def load_configuration(conf_dir: str | None = None, dynamic: list[str] | None = None) -> Configuration:
    """The effective configuration: ``<conf_dir>/config.yaml`` (``$FLINK_CONF_DIR`` or ``./conf`` when
    ``conf_dir`` is None, when present) plus ``dynamic`` ``key=value`` overrides.

    Unknown keys are logged as warnings; bad values raise ConfigurationError naming the key.
    """
    directory = conf_dir or os.environ.get("YFLINK_CONF_DIR") or os.environ.get("FLINK_CONF_DIR") or "conf"
    path = Path(directory) / "config.yaml"
    conf = Configuration.from_yaml(path) if path.is_file() else Configuration()
    conf.apply_dynamic_properties(dynamic or [])
    for key in conf.validate():
        log.warning("Unknown configuration key '%s' (kept, but yflink does not use it)", key)
    return conf
