"""Reader positions that can be re-shared when a job restores at another parallelism.

A position is a list of index progressions still to read, ``(first, stop, step)`` as in ``range`` (stop
exclusive). On restore every new subtask receives every old subtask's progressions (union list state, see
``SourceOperator``, in old subtask order): at the same parallelism each subtask resumes its own; at another it reads
:func:`even_share` of them, so the new subtasks together read each remaining index exactly once and their shares
differ by at most one index. Used by ``NumberSequenceSource`` (numbers, step 1) and
``CollectionSource`` (indices into the collection, step = the old parallelism).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Progression", "even_share", "non_empty"]

Progression = tuple[int, int, int]  # (first, stop, step) as in range(); stop exclusive, step >= 1


def non_empty(progressions: Iterable[Iterable[int]]) -> list[Progression]:
    """The progressions with at least one index, as int triples (snapshots may come back as lists)."""
    found = []
    for first, stop, step in progressions:
        p = (int(first), int(stop), int(step))
        if len(range(*p)):
            found.append(p)
    return found


def even_share(progressions: Iterable[Iterable[int]], index: int, parallelism: int) -> list[Progression]:
    """Subtask ``index`` of ``parallelism``'s part of ``progressions``: the indices at offsets
    ``[total * index // parallelism, total * (index + 1) // parallelism)`` of their concatenation (in the
    progressions' sorted order), as progressions.

    Raises:
        ValueError: ``index`` is not in ``[0, parallelism)``.
    """
    if not 0 <= index < parallelism:
        raise ValueError(f"subtask index {index} is not in [0, {parallelism})")
    ordered = sorted(non_empty(progressions))
    total = sum(len(range(*p)) for p in ordered)
    lo, hi = total * index // parallelism, total * (index + 1) // parallelism
    share: list[Progression] = []
    offset = 0
    for first, stop, step in ordered:
        count = len(range(first, stop, step))
        start_k, end_k = max(0, lo - offset), min(count, hi - offset)
        if start_k < end_k:
            share.append((first + start_k * step, min(stop, first + end_k * step), step))
        offset += count
    return share
