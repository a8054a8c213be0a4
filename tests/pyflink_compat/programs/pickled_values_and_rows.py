# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Values without a declared type, Rows and several jobs from one environment, as in PyFlink's
``examples/datastream/basic_operations.py`` and ``process_json_data.py``: a ``Types.ROW_NAMED`` source read by
field name, ``map`` without ``output_type`` (PyFlink prints such values with ``str()``: dicts, tuples,
``Row(id=1, item='book')``), a typed ROW (printed ``+I[1, book]``), ``print(sink_identifier)``, and
``env.execute()`` three times: each run executes only the sinks added since the previous one.
"""
import json

from yflink.common import Row, Types
from yflink.datastream import StreamExecutionEnvironment

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
items = env.from_collection(
    [(1, '{"item": "book", "qty": 2, "shelf": "A"}'),
     (2, '{"item": "pen", "qty": 3, "shelf": "B"}'),
     (3, '{"item": "ink", "qty": 1, "shelf": "B"}')],
    type_info=Types.ROW_NAMED(["id", "payload"], [Types.INT(), Types.STRING()]))


def restock(row):
    data = json.loads(row.payload)
    data["qty"] += 1
    return row.id, data


items.map(restock).filter(lambda pair: pair[1]["shelf"] == "B").print()
env.execute("first")

items.map(lambda row: Row(item=json.loads(row.payload)["item"], id=row.id)).print()
items.map(lambda row: Row(row.id, json.loads(row.payload)["item"]),
          output_type=Types.ROW_NAMED(["id", "item"], [Types.INT(), Types.STRING()])).print("typed")
env.execute("second")

items.map(lambda row: (json.loads(row.payload)["shelf"], json.loads(row.payload)["qty"])) \
    .key_by(lambda pair: pair[0]) \
    .reduce(lambda a, b: (a[0], a[1] + b[1])) \
    .print()
env.execute("third")
