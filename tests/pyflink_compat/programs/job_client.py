# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""``env.execute_async()`` and PyFlink's JobClient: ``get_job_id()``, futures from ``get_job_execution_result()``
and ``get_job_status()``, and the JobStatus enum (printed as ``JobStatus.FINISHED``).
"""
from yflink.common import JobStatus, Types
from yflink.datastream import StreamExecutionEnvironment

env = StreamExecutionEnvironment.get_execution_environment()
env.from_collection(["a", "b"], type_info=Types.STRING()).map(lambda s: s.upper(), Types.STRING()).print()
job_client = env.execute_async("job client")
result = job_client.get_job_execution_result().result()
status = job_client.get_job_status().result()
print("same job:", str(result.get_job_id()) == str(job_client.get_job_id()), len(str(job_client.get_job_id())))
print(status, status == JobStatus.FINISHED, status.is_globally_terminal_state())
