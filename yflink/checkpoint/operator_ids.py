"""Stable operator ids: how state in a checkpoint finds its operator in the job being restored.

Flink maps state by ``OperatorID``: a hash of the operator's ``uid`` when the user set one, otherwise a hash of
the operator's position in the topology (``StreamGraphHasherV2``), which changes when the program changes. The
documentation ("Savepoints" > "Assigning Operator IDs") therefore asks for a ``uid`` on every stateful operator;
yflink follows the same rule.

* :func:`operator_id_from_uid`: 32 hex digits from a ``uid`` (MD5; not Flink's murmur3, ids never cross engines).
* :func:`stable_operator_ids`: ids for every node of a StreamGraph: from the ``uid`` when set, else from the
  node's place in a deterministic traversal from the sources (its traversal index, how many of its outputs are
  chained, and the ids of its inputs), so the same program always gets the same ids.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from typing import Optional

from yflink.graph.stream_graph import StreamEdge, StreamGraph

__all__ = ["operator_id_from_uid", "stable_operator_ids"]


def operator_id_from_uid(uid: str) -> str:
    """The operator id of a user-given ``uid`` (32 hex digits)."""
    return hashlib.md5(f"uid:{uid}".encode(), usedforsecurity=False).hexdigest()


def stable_operator_ids(graph: StreamGraph,
                        chainable: Optional[Callable[[StreamEdge], bool]] = None) -> dict[int, str]:
    """``{stream node id: operator id}`` for every node of ``graph``.

    Args:
        chainable: whether an edge is chained (``yflink.graph.job_graph.is_chainable``); counted into the hash as
            Flink does, so turning chaining on or off does not silently keep ids. None: no edge counts as chained.

    Raises:
        ValueError: two operators have the same ``uid``.
    """
    ids: dict[int, str] = {}
    uids: dict[str, int] = {}
    for node in graph.nodes.values():
        if node.uid is not None:
            if node.uid in uids:
                raise ValueError(f"Operators {uids[node.uid]} and {node.id} have the same uid '{node.uid}'; "
                                 "a uid must be unique within the job")
            uids[node.uid] = node.id
    queue = deque(sorted(n.id for n in graph.nodes.values() if not n.in_edges))
    visited: set[int] = set(queue)
    index, postponed = 0, 0
    while queue:
        node = graph.nodes[queue.popleft()]
        inputs = [e.source_id for e in node.in_edges]
        if any(i not in ids for i in inputs):  # an input is not hashed yet: come back to this node later
            postponed += 1
            if postponed > len(queue):
                raise ValueError(f"The stream graph has a cycle through operator {node.id} ({node.name})")
            queue.append(node.id)
            continue
        postponed = 0
        if node.uid is not None:
            ids[node.id] = operator_id_from_uid(node.uid)
        else:
            chained = sum(1 for e in node.out_edges if chainable is not None and chainable(e))
            seed = f"{index}|{chained}|{','.join(ids[i] for i in inputs)}"
            ids[node.id] = hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()
        index += 1
        for edge in sorted(node.out_edges, key=lambda e: e.target_id):
            if edge.target_id not in visited:
                visited.add(edge.target_id)
                queue.append(edge.target_id)
    return ids
