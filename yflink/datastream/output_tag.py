"""OutputTag: names a side output (PyFlink ``pyflink.datastream.OutputTag``).

Source: Flink documentation, "Side Outputs". A function emits to a side output with
``ctx.output(tag, value)``; ``stream.get_side_output(tag)`` is the stream of those values. Tags are equal
when their ids are equal (the runtime matches them by id after pickling).
"""

from __future__ import annotations

from typing import Any, Optional


class OutputTag:
    """A typed, named side output.

    Args:
        tag_id: the side output's name; must not be empty.
        type_info: the TypeInformation of its values (used to print them), or None.

    Raises:
        ValueError: ``tag_id`` is empty.
    """

    def __init__(self, tag_id: str, type_info: Optional[Any] = None) -> None:
        if not tag_id:
            raise ValueError("OutputTag needs a non-empty tag_id")
        self.tag_id = tag_id
        self.type_info = type_info

    def get_type_info(self) -> Optional[Any]:
        return self.type_info

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputTag) and other.tag_id == self.tag_id

    def __hash__(self) -> int:
        return hash(self.tag_id)

    def __repr__(self) -> str:
        return f"OutputTag({self.tag_id!r})"
