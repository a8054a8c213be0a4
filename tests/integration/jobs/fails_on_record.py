"""A job whose user function raises on record 7 (the job must end FAILED with this traceback)."""

from yflink.datastream import StreamExecutionEnvironment


def check(x: int) -> int:
    if x == 7:
        raise ValueError(f"bad record {x}")
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection(list(range(20))).map(check).print()
env.execute("fails on record 7")
