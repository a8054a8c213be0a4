"""Key groups: which key group a key belongs to, and which subtask owns a key group.

Pure functions, no I/O. Source of the semantics: Flink ``KeyGroupRangeAssignment`` and ``MathUtils.murmurHash``
("Stateful Stream Processing" in the Flink documentation: keyed state is redistributed in units of key groups,
``pipeline.max-parallelism`` of them).

A Python key has no Java ``hashCode``; :func:`stable_hash` gives every process the same 32-bit hash for the
same key (``hash()`` of a ``str`` differs between processes), and Flink's murmur finaliser and modulo follow.
"""

from __future__ import annotations

import importlib
import inspect
import operator
import os
import pickle
import struct
import types
import zlib
from collections.abc import Callable
from typing import Any, Optional

_MASK32 = 0xFFFFFFFF


def stable_hash(key: Any) -> int:
    """A 32-bit hash of ``key`` that is equal in every process and every run.

    ``int`` keys hash like Java's ``Long.hashCode``; ``str`` and ``bytes`` by CRC-32 of their UTF-8 bytes; tuples
    combine their fields like Java's ``Arrays.hashCode``; anything else by CRC-32 of its pickle (protocol 5).
    """
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if isinstance(key, bool):
        return 1231 if key else 1237
    if isinstance(key, int):
        value = key & 0xFFFFFFFFFFFFFFFF
        return (value ^ (value >> 32)) & _MASK32
    if isinstance(key, (bytes, bytearray)):
        return zlib.crc32(key)
    if isinstance(key, float):
        (bits,) = struct.unpack("<q", struct.pack("<d", key))
        return stable_hash(bits)
    if isinstance(key, tuple):  # also yflink.common.Row, which is a tuple
        result = 1
        for item in key:
            result = (31 * result + stable_hash(item)) & _MASK32
        return result
    if key is None:
        return 0
    return zlib.crc32(pickle.dumps(key, protocol=5))


_stable_hash_py = stable_hash
#: The compiled routing (yflink/_speedups.c) when the extension was built at install time, else None.
speedups: Optional[types.ModuleType]
try:
    speedups = importlib.import_module("yflink._speedups")
except ImportError:  # built without a C compiler: the pure-Python code above
    speedups = None
if speedups is not None and not os.environ.get("YFLINK_NO_SPEEDUPS"):
    speedups.set_fallback(_stable_hash_py)
    stable_hash = speedups.stable_hash  # the same function in C (tests/unit/test_speedups.py)
else:
    speedups = None

_ITEM_TEMPLATE = (lambda record: record[0]).__code__
_ITEM_CONST = _ITEM_TEMPLATE.co_consts.index(0)
# Flags that would make such code something else than a plain function (nested or __future__ flags do not).
_UNLIKE_A_LAMBDA = (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS | inspect.CO_GENERATOR | inspect.CO_COROUTINE
                    | inspect.CO_ITERABLE_COROUTINE | inspect.CO_ASYNC_GENERATOR)


def fast_key_selector(key_selector: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``operator.itemgetter(k)`` for a key selector that is exactly ``lambda r: r[k]`` (a constant ``int`` or
    ``str`` index, nothing else in its code: the usual ``key_by(lambda t: t[0])``), else ``key_selector`` itself.

    ``itemgetter(k)(r)`` is ``r[k]``, with the same result and the same errors, without a Python frame per record.
    """
    if type(key_selector) is not types.FunctionType:
        return key_selector
    code = key_selector.__code__
    if (code.co_code != _ITEM_TEMPLATE.co_code or code.co_flags & _UNLIKE_A_LAMBDA
            or code.co_argcount != 1 or code.co_kwonlyargcount or code.co_posonlyargcount
            or len(code.co_consts) != len(_ITEM_TEMPLATE.co_consts) or key_selector.__closure__):
        return key_selector
    index = code.co_consts[_ITEM_CONST]
    if type(index) not in (int, str):
        return key_selector
    return operator.itemgetter(index)


def tuple_field(key_selector: Callable[[Any], Any]) -> int:
    """``k`` when ``key_selector`` is ``operator.itemgetter(k)`` of one ``int`` ``k >= 0``, else ``-1``."""
    if type(key_selector) is operator.itemgetter:
        items = key_selector.__reduce__()[1]
        if len(items) == 1 and type(items[0]) is int and items[0] >= 0:
            return items[0]
    return -1


def murmur_hash(code: int) -> int:
    """Flink's ``MathUtils.murmurHash(int)``: a non-negative int from a 32-bit hash code."""
    code &= _MASK32
    code = (code * 0xCC9E2D51) & _MASK32
    code = ((code << 15) | (code >> 17)) & _MASK32
    code = (code * 0x1B873593) & _MASK32
    code = ((code << 13) | (code >> 19)) & _MASK32
    code = (code * 5 + 0xE6546B64) & _MASK32
    code ^= 4
    code ^= code >> 16
    code = (code * 0x85EBCA6B) & _MASK32
    code ^= code >> 13
    code = (code * 0xC2B2AE35) & _MASK32
    code ^= code >> 16
    if code >= 0x80000000:  # back to Java's signed int
        code -= 1 << 32
    if code >= 0:
        return code
    if code != -(1 << 31):
        return -code
    return 0


def assign_to_key_group(key: Any, max_parallelism: int) -> int:
    """The key group (0 <= kg < max_parallelism) of ``key``."""
    return murmur_hash(stable_hash(key)) % max_parallelism


def operator_index_for_key_group(max_parallelism: int, parallelism: int, key_group: int) -> int:
    """The subtask (0 <= i < parallelism) that owns ``key_group``."""
    return key_group * parallelism // max_parallelism


def assign_key_to_operator(key: Any, max_parallelism: int, parallelism: int) -> int:
    """The subtask that owns ``key``."""
    return operator_index_for_key_group(max_parallelism, parallelism, assign_to_key_group(key, max_parallelism))


def key_group_range(max_parallelism: int, parallelism: int, operator_index: int) -> range:
    """Key groups owned by subtask ``operator_index`` (Flink ``computeKeyGroupRangeForOperatorIndex``)."""
    if not 0 < parallelism <= max_parallelism:
        raise ValueError(f"parallelism must be in 1..{max_parallelism}, got {parallelism}")
    start = (operator_index * max_parallelism + parallelism - 1) // parallelism
    end = ((operator_index + 1) * max_parallelism - 1) // parallelism
    return range(start, end + 1)
