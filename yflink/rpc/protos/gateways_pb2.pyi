from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RegisterTaskExecutorRequest(_message.Message):
    __slots__ = ("resource_id", "address", "num_slots", "hostname", "pid")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NUM_SLOTS_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    address: str
    num_slots: int
    hostname: str
    pid: int
    def __init__(self, resource_id: _Optional[str] = ..., address: _Optional[str] = ..., num_slots: _Optional[int] = ..., hostname: _Optional[str] = ..., pid: _Optional[int] = ...) -> None: ...

class RegisterTaskExecutorResponse(_message.Message):
    __slots__ = ("accepted", "resource_manager_id", "reason")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    resource_manager_id: str
    reason: str
    def __init__(self, accepted: _Optional[bool] = ..., resource_manager_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SlotStatus(_message.Message):
    __slots__ = ("slot_index", "allocation_id", "job_id")
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    slot_index: int
    allocation_id: str
    job_id: str
    def __init__(self, slot_index: _Optional[int] = ..., allocation_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class TaskExecutorHeartbeat(_message.Message):
    __slots__ = ("resource_id", "slots")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    slots: _containers.RepeatedCompositeFieldContainer[SlotStatus]
    def __init__(self, resource_id: _Optional[str] = ..., slots: _Optional[_Iterable[_Union[SlotStatus, _Mapping]]] = ...) -> None: ...

class HeartbeatReply(_message.Message):
    __slots__ = ("known",)
    KNOWN_FIELD_NUMBER: _ClassVar[int]
    known: bool
    def __init__(self, known: _Optional[bool] = ...) -> None: ...

class RequestSlotRequest(_message.Message):
    __slots__ = ("job_id", "allocation_id", "job_master_address", "job_master_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    allocation_id: str
    job_master_address: str
    job_master_id: str
    def __init__(self, job_id: _Optional[str] = ..., allocation_id: _Optional[str] = ..., job_master_address: _Optional[str] = ..., job_master_id: _Optional[str] = ...) -> None: ...

class RequestSlotReply(_message.Message):
    __slots__ = ("pending",)
    PENDING_FIELD_NUMBER: _ClassVar[int]
    pending: bool
    def __init__(self, pending: _Optional[bool] = ...) -> None: ...

class CancelSlot(_message.Message):
    __slots__ = ("allocation_id",)
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    allocation_id: str
    def __init__(self, allocation_id: _Optional[str] = ...) -> None: ...

class SlotAvailable(_message.Message):
    __slots__ = ("resource_id", "slot_index", "allocation_id")
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    resource_id: str
    slot_index: int
    allocation_id: str
    def __init__(self, resource_id: _Optional[str] = ..., slot_index: _Optional[int] = ..., allocation_id: _Optional[str] = ...) -> None: ...

class DisconnectRequest(_message.Message):
    __slots__ = ("id", "cause")
    ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    id: str
    cause: str
    def __init__(self, id: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class TaskExecutorSlotRequest(_message.Message):
    __slots__ = ("resource_manager_id", "slot_index", "allocation_id", "job_id", "job_master_address", "job_master_id")
    RESOURCE_MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    resource_manager_id: str
    slot_index: int
    allocation_id: str
    job_id: str
    job_master_address: str
    job_master_id: str
    def __init__(self, resource_manager_id: _Optional[str] = ..., slot_index: _Optional[int] = ..., allocation_id: _Optional[str] = ..., job_id: _Optional[str] = ..., job_master_address: _Optional[str] = ..., job_master_id: _Optional[str] = ...) -> None: ...

class TaskExecutorSlotReply(_message.Message):
    __slots__ = ("accepted", "reason")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    reason: str
    def __init__(self, accepted: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class SubmitTaskRequest(_message.Message):
    __slots__ = ("job_master_id", "allocation_id", "deployment")
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    job_master_id: str
    allocation_id: str
    deployment: bytes
    def __init__(self, job_master_id: _Optional[str] = ..., allocation_id: _Optional[str] = ..., deployment: _Optional[bytes] = ...) -> None: ...

class SubmitTaskReply(_message.Message):
    __slots__ = ("accepted", "reason")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    reason: str
    def __init__(self, accepted: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelTaskRequest(_message.Message):
    __slots__ = ("job_master_id", "execution_id")
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    job_master_id: str
    execution_id: str
    def __init__(self, job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ...) -> None: ...

class FreeSlotRequest(_message.Message):
    __slots__ = ("allocation_id", "cause")
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    allocation_id: str
    cause: str
    def __init__(self, allocation_id: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class JobManagerHeartbeat(_message.Message):
    __slots__ = ("job_id", "job_master_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ...) -> None: ...

class TriggerCheckpointRequest(_message.Message):
    __slots__ = ("job_id", "job_master_id", "execution_id", "checkpoint_id", "timestamp", "options")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    execution_id: str
    checkpoint_id: int
    timestamp: int
    options: bytes
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., timestamp: _Optional[int] = ..., options: _Optional[bytes] = ...) -> None: ...

class CheckpointNotification(_message.Message):
    __slots__ = ("job_id", "job_master_id", "execution_id", "checkpoint_id", "completed")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    execution_id: str
    checkpoint_id: int
    completed: bool
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., completed: _Optional[bool] = ...) -> None: ...

class CheckpointAck(_message.Message):
    __slots__ = ("job_id", "job_master_id", "execution_id", "checkpoint_id", "state", "sync_duration_ms", "async_duration_ms", "alignment_duration_ms")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SYNC_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ASYNC_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ALIGNMENT_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    execution_id: str
    checkpoint_id: int
    state: bytes
    sync_duration_ms: int
    async_duration_ms: int
    alignment_duration_ms: int
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., state: _Optional[bytes] = ..., sync_duration_ms: _Optional[int] = ..., async_duration_ms: _Optional[int] = ..., alignment_duration_ms: _Optional[int] = ...) -> None: ...

class CheckpointDecline(_message.Message):
    __slots__ = ("job_id", "job_master_id", "execution_id", "checkpoint_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    execution_id: str
    checkpoint_id: int
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class SlotOffer(_message.Message):
    __slots__ = ("allocation_id", "slot_index", "data_address")
    ALLOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    DATA_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    allocation_id: str
    slot_index: int
    data_address: str
    def __init__(self, allocation_id: _Optional[str] = ..., slot_index: _Optional[int] = ..., data_address: _Optional[str] = ...) -> None: ...

class OfferSlotsRequest(_message.Message):
    __slots__ = ("job_id", "job_master_id", "resource_id", "task_executor_address", "offers")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    resource_id: str
    task_executor_address: str
    offers: _containers.RepeatedCompositeFieldContainer[SlotOffer]
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., resource_id: _Optional[str] = ..., task_executor_address: _Optional[str] = ..., offers: _Optional[_Iterable[_Union[SlotOffer, _Mapping]]] = ...) -> None: ...

class OfferSlotsReply(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, accepted: _Optional[_Iterable[str]] = ...) -> None: ...

class TaskExecutionState(_message.Message):
    __slots__ = ("job_id", "job_master_id", "execution_id", "state", "failure")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    execution_id: str
    state: str
    failure: str
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., state: _Optional[str] = ..., failure: _Optional[str] = ...) -> None: ...

class TaskMetrics(_message.Message):
    __slots__ = ("execution_id", "records_in", "records_out", "busy_ms", "backpressured_ms", "idle_ms")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_IN_FIELD_NUMBER: _ClassVar[int]
    RECORDS_OUT_FIELD_NUMBER: _ClassVar[int]
    BUSY_MS_FIELD_NUMBER: _ClassVar[int]
    BACKPRESSURED_MS_FIELD_NUMBER: _ClassVar[int]
    IDLE_MS_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    records_in: int
    records_out: int
    busy_ms: int
    backpressured_ms: int
    idle_ms: int
    def __init__(self, execution_id: _Optional[str] = ..., records_in: _Optional[int] = ..., records_out: _Optional[int] = ..., busy_ms: _Optional[int] = ..., backpressured_ms: _Optional[int] = ..., idle_ms: _Optional[int] = ...) -> None: ...

class TaskMetricsReport(_message.Message):
    __slots__ = ("job_id", "job_master_id", "tasks")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_MASTER_ID_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_master_id: str
    tasks: _containers.RepeatedCompositeFieldContainer[TaskMetrics]
    def __init__(self, job_id: _Optional[str] = ..., job_master_id: _Optional[str] = ..., tasks: _Optional[_Iterable[_Union[TaskMetrics, _Mapping]]] = ...) -> None: ...

class CollectBatch(_message.Message):
    __slots__ = ("job_id", "operator_id", "subtask_index", "records", "end_of_input")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    SUBTASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    END_OF_INPUT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    operator_id: str
    subtask_index: int
    records: bytes
    end_of_input: bool
    def __init__(self, job_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., subtask_index: _Optional[int] = ..., records: _Optional[bytes] = ..., end_of_input: _Optional[bool] = ...) -> None: ...

class SlotWorkerRegistration(_message.Message):
    __slots__ = ("slot_index", "pid", "control_address", "data_address")
    SLOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    CONTROL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DATA_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    slot_index: int
    pid: int
    control_address: str
    data_address: str
    def __init__(self, slot_index: _Optional[int] = ..., pid: _Optional[int] = ..., control_address: _Optional[str] = ..., data_address: _Optional[str] = ...) -> None: ...

class DeployTaskRequest(_message.Message):
    __slots__ = ("deployment",)
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: bytes
    def __init__(self, deployment: _Optional[bytes] = ...) -> None: ...

class CancelExecutionRequest(_message.Message):
    __slots__ = ("execution_id",)
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    def __init__(self, execution_id: _Optional[str] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("job_graph",)
    JOB_GRAPH_FIELD_NUMBER: _ClassVar[int]
    job_graph: bytes
    def __init__(self, job_graph: _Optional[bytes] = ...) -> None: ...

class SubmitJobReply(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobIdRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobStatusReply(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...
