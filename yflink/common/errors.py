"""The exception tree of yflink.

::

    YFlinkError
     +-- ConfigurationError          a bad or unknown configuration value (names the key)
     +-- JobSubmissionError          the client could not submit, or the cluster refused the job
     +-- JobExecutionError           the job ended FAILED; carries the root cause's text
     +-- ClusterError                a JobManager/TaskManager could not start or was lost
     |    +-- PortInUseError         a port the cluster needs is already taken
     +-- RpcError                    a gateway call failed (timeout, connection lost)
     |    +-- FencingTokenMismatch   a call carried a stale leader session id
     +-- GraphError                  the program builds an invalid graph (names the operator)

Errors tell the operator what to do: each message names the bad thing and what would be right.
"""

from __future__ import annotations


class YFlinkError(Exception):
    """Root of every error yflink raises on purpose."""


class ConfigurationError(YFlinkError, ValueError):
    """A configuration value is unknown, malformed or out of range."""


class JobSubmissionError(YFlinkError):
    """A job could not be submitted."""


class JobExecutionError(YFlinkError):
    """A job ended in FAILED (or CANCELED when the caller waited for success).

    Attributes:
        job_id: the job's id (32 hex digits).
        status: the terminal JobStatus name.
        root_cause: the text of the root exception, including the user's traceback.
    """

    def __init__(self, job_id: str, status: str, root_cause: str) -> None:
        super().__init__(f"Job {job_id} ended {status}.\n{root_cause}")
        self.job_id = job_id
        self.status = status
        self.root_cause = root_cause


class ClusterError(YFlinkError):
    """A cluster process could not start, or was lost."""


class PortInUseError(ClusterError):
    """A port the cluster must listen on is already in use."""


class RpcError(YFlinkError):
    """A gateway call failed."""


class FencingTokenMismatch(RpcError):
    """A gateway call was fenced by a leader session id that is no longer current."""


class GraphError(YFlinkError, ValueError):
    """The program builds an invalid StreamGraph or JobGraph."""
