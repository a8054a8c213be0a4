"""Which session windows of a key exist, and which window holds each one's state (Flink ``MergingWindowSet``).

When windows merge, the result keeps the state of one of the merged windows (its *state window*) and the
states of the others are merged into it, so a merge never moves the state that is already in place. The
mapping ``{window: state window}`` of a key lives in the keyed backend (table ``merging-window-set``), so
it is snapshotted with the rest of the key's state. Pure logic: the operator passes the mapping in.

Source of the semantics: Flink ``MergingWindowSet.addWindow`` / ``retireWindow`` / ``getStateWindow``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

#: ``merge_function(merge_result, merged_windows, state_window_of_result, merged_state_windows)``
MergeFunction = Callable[[Any, list[Any], Any, list[Any]], None]


class _Collect:
    """The MergeCallback handed to ``assigner.merge_windows``: remembers every merge it proposes."""

    def __init__(self) -> None:
        self.merges: list[tuple[Any, list[Any]]] = []

    def merge(self, to_be_merged: Iterable[Any], merge_result: Any) -> None:
        self.merges.append((merge_result, list(to_be_merged)))


def add_window(assigner: Any, mapping: dict[Any, Any], new_window: Any, merge_function: MergeFunction) -> Any:
    """Add ``new_window`` to the key's windows (``mapping``), merging as ``assigner`` says.

    ``merge_function`` is called for every merge that involves a window that already has state, before the
    mapping is final for the next merge. Returns the window ``new_window`` ended up in (itself, or the result
    of a merge it took part in).
    """
    callback = _Collect()
    assigner.merge_windows([*mapping, new_window], callback)
    result_window = new_window
    merged_new_window = False
    for merge_result, merged in callback.merges:
        if new_window in merged:
            merged.remove(new_window)  # the new window has no state of its own
            merged_new_window = True
            result_window = merge_result
        if not merged:  # an assigner that "merged" the new window with itself only
            mapping.setdefault(merge_result, merge_result)
            continue
        state_window = mapping[merged[0]]
        merged_state_windows = [s for s in (mapping.pop(m, None) for m in merged) if s is not None]
        mapping[merge_result] = state_window
        merged_state_windows.remove(state_window)
        if not (len(merged) == 1 and merged[0] == merge_result):
            merge_function(merge_result, merged, state_window, merged_state_windows)
    if not callback.merges or (result_window == new_window and not merged_new_window):
        mapping[result_window] = result_window
    return result_window


def retire_window(mapping: dict[Any, Any], window: Any) -> None:
    """Forget ``window`` (it was purged or is late).

    Raises:
        KeyError: ``window`` is not one of the key's windows.
    """
    if mapping.pop(window, None) is None:
        raise KeyError(f"Window {window} is not in in-flight window set.")
