"""The JobResultStore (Flink "High Availability" > "JobResultStore") and the Dispatcher's use of it: dirty entry at
global termination, clean after the HA cleanup, duplicate submissions refused, recovery that skips terminated jobs
and finishes their cleanup, a recovered job that a re-run main attaches to. No sockets, no sleeps beyond waiting
for the Dispatcher's own cleanup tasks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.unit.test_checkpoint_jobmaster import job_graph, synchronously
from yflink.common.configuration import Configuration
from yflink.runtime.dispatcher import Dispatcher, DuplicateJobSubmissionError, archived_execution_graph
from yflink.runtime.highavailability import HaConfiguration, JobResult, StandaloneHaServices, application_job_id
from yflink.runtime.highavailability.job_result_store import FileSystemJobResultStore, InMemoryJobResultStore
from yflink.runtime.states import JobStatus

JOB = "0123456789abcdef0123456789abcdef"


def result(job_id: str = JOB, state: str = "FINISHED", cause: str | None = None) -> JobResult:
    return JobResult(job_id, "numbers", state, 1_000, 3_500, cause)


def test_job_result_json_is_flinks_entry_shape_and_round_trips() -> None:
    failed = result(state="FAILED", cause="Traceback ...\nValueError: bad record 7")
    raw = json.loads(failed.to_json())
    assert raw["version"] == 1
    assert raw["result"]["id"] == JOB and raw["result"]["application-status"] == "FAILED"
    assert raw["result"]["net-runtime"] == 2_500
    assert raw["result"]["failure-cause"]["stack-trace"].endswith("bad record 7")
    assert JobResult.from_json(failed.to_json()) == failed
    with pytest.raises(ValueError, match="globally terminal"):
        result(state="RUNNING")
    with pytest.raises(ValueError, match="not a job result entry"):
        JobResult.from_json(b'{"version": 1}')


@pytest.mark.parametrize("delete_on_commit", [True, False])
def test_file_system_store_dirty_then_clean_or_deleted(tmp_path: Path, delete_on_commit: bool) -> None:
    store = FileSystemJobResultStore(f"file://{tmp_path}/jrs", delete_on_commit=delete_on_commit)
    assert not store.has_job_result_entry(JOB) and store.get_dirty_results() == []  # no directory yet
    store.create_dirty_result(result())
    assert (tmp_path / "jrs" / f"{JOB}_DIRTY.json").is_file()
    assert store.has_dirty_job_result_entry(JOB) and not store.has_clean_job_result_entry(JOB)
    assert store.get_dirty_results() == [result()] and store.get_result(JOB) == result()
    with pytest.raises(ValueError, match="already has an entry"):
        store.create_dirty_result(result())
    store.mark_result_as_clean(JOB)
    if not delete_on_commit:
        store.mark_result_as_clean(JOB)  # idempotent once clean
    assert not (tmp_path / "jrs" / f"{JOB}_DIRTY.json").exists()
    assert (tmp_path / "jrs" / f"{JOB}.json").is_file() is (not delete_on_commit)
    assert store.has_job_result_entry(JOB) is (not delete_on_commit)
    assert store.get_clean_results() == ([] if delete_on_commit else [result()])
    store.remove_all()
    assert not (tmp_path / "jrs").exists()


def test_marking_an_unknown_job_clean_is_an_error_and_unreadable_entries_are_skipped(tmp_path: Path) -> None:
    store = FileSystemJobResultStore(f"file://{tmp_path}/jrs", delete_on_commit=False)
    with pytest.raises(KeyError, match="No job result entry"):
        store.mark_result_as_clean(JOB)
    (tmp_path / "jrs").mkdir()
    (tmp_path / "jrs" / f"{'f' * 32}_DIRTY.json").write_text("not json")
    store.create_dirty_result(result())
    assert store.get_dirty_results() == [result()]
    memory = InMemoryJobResultStore()
    with pytest.raises(KeyError):
        memory.mark_result_as_clean(JOB)


def test_ha_services_default_the_store_under_the_storage_dir_and_cluster_id(tmp_path: Path) -> None:
    conf = Configuration()
    conf.set_string("high-availability.type", "zookeeper")
    conf.set_string("high-availability.zookeeper.quorum", "localhost:1")
    conf.set_string("high-availability.storageDir", f"file://{tmp_path}/ha")
    conf.set_string("high-availability.cluster-id", "application_1_0007")
    conf.set_string("job-result-store.delete-on-commit", "false")
    ha = HaConfiguration.from_configuration(conf)
    assert ha.job_result_store_path is None and ha.job_result_delete_on_commit is False
    pytest.importorskip("kazoo")
    from yflink.runtime.highavailability.zookeeper import ZooKeeperHaServices

    class NoClient:  # the JobResultStore never touches ZooKeeper
        pass

    services = ZooKeeperHaServices(ha, client=NoClient())  # type: ignore[arg-type]
    assert services.job_result_store_path == f"file://{tmp_path}/ha/job-result-store/application_1_0007"
    conf.set_string("job-result-store.storage-path", f"file://{tmp_path}/elsewhere")
    services = ZooKeeperHaServices(HaConfiguration.from_configuration(conf), client=NoClient())  # type: ignore[arg-type]
    assert services.job_result_store_path == f"file://{tmp_path}/elsewhere"


def test_application_job_id_is_flinks_cluster_id_hash() -> None:
    # Flink: new JobID(clusterId.hashCode(), 0); "a".hashCode() == 97, a negative hash is sign-extended
    assert application_job_id("a") == f"{97:016x}" + "0" * 16
    assert application_job_id("application_1700000000000_0001") == application_job_id("application_1700000000000_0001")
    assert application_job_id("application_1_0001") != application_job_id("application_1_0002")
    negative = application_job_id("polygenelubricants")  # Java hashCode: Integer.MIN_VALUE
    assert negative == "ffffffff80000000" + "0" * 16
    assert len(application_job_id("/default")) == 32


def test_archived_graph_answers_rest_with_the_final_state() -> None:
    from yflink.rest import messages

    graph = archived_execution_graph(result(state="FAILED", cause="ValueError: bad record 7"))
    assert graph.status is JobStatus.FAILED and graph.job_graph.job_name == "numbers"
    details = messages.job_details(graph, 10_000)
    assert details["state"] == "FAILED" and details["start-time"] == 1_000 and details["end-time"] == 3_500
    executed = messages.execution_result(graph, 10_000)["job-execution-result"]
    assert executed["application-status"] == "FAILED" and "bad record 7" in executed["failure-cause"]["stack-trace"]


class MemoryHaServices(StandaloneHaServices):
    """In-memory stores that behave as highly available ones (what a new leader of the same cluster reads)."""

    highly_available = True


def dispatcher(ha: StandaloneHaServices, session: str) -> Dispatcher:
    conf = Configuration()
    conf.set_string("resourcemanager.local-taskmanagers.enabled", "false")
    d = Dispatcher(conf, "127.0.0.1:1", ha=ha, leader_session_id=session)
    d.start()
    return d


async def until(condition: object, what: str) -> None:
    for _ in range(500):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached: {what}")


@synchronously
async def test_a_cancelled_job_gets_a_result_then_its_ha_data_goes_and_resubmission_is_refused() -> None:
    ha = MemoryHaServices()
    jrs = ha.job_result_store()
    first = dispatcher(ha, "s1")
    jg = job_graph(1)
    await first.submit_job(jg)
    with pytest.raises(DuplicateJobSubmissionError, match="is still running") as running:
        await first.submit_job(jg)
    assert not running.value.globally_terminated
    await first.cancel_job(jg.job_id)
    await until(lambda: jrs.has_clean_job_result_entry(jg.job_id), "the entry marked clean")
    assert ha.job_graph_store().job_ids() == []
    assert jrs.get_result(jg.job_id).state == "CANCELED"  # type: ignore[union-attr]
    with pytest.raises(DuplicateJobSubmissionError, match="globally terminal") as done:
        await first.submit_job(jg)
    assert done.value.globally_terminated
    await first.stop()

    second = dispatcher(ha, "s2")  # a new leader: the job is not run again, but REST still knows it
    assert await second.recover_jobs() == []
    assert second.job_ids() == [jg.job_id] and second.execution_graph(jg.job_id).status is JobStatus.CANCELED
    await second.cancel_job(jg.job_id)  # already ended: nothing to do
    with pytest.raises(DuplicateJobSubmissionError) as again:
        await second.submit_job(jg)
    assert again.value.globally_terminated and second.job_masters == {}
    await second.stop()


@synchronously
async def test_recovery_skips_a_job_with_a_dirty_result_and_finishes_its_cleanup() -> None:
    ha = MemoryHaServices()
    jg = job_graph(1)
    ha.job_graph_store().put(jg)  # the old leader wrote the dirty result, then died before its cleanup
    ha.checkpoint_pointer_store(jg.job_id).add(3, "file:///chk-3")
    ha.job_result_store().create_dirty_result(result(jg.job_id, "FINISHED"))
    leader = dispatcher(ha, "s2")
    assert await leader.recover_jobs() == []
    assert jg.job_id not in leader.job_masters
    assert leader.execution_graph(jg.job_id).status is JobStatus.FINISHED
    await until(lambda: ha.job_result_store().has_clean_job_result_entry(jg.job_id), "the cleanup finished")
    assert ha.job_graph_store().job_ids() == [] and ha.checkpoint_pointer_store(jg.job_id).pointers() == []
    await leader.stop()


@synchronously
async def test_a_recovered_job_is_attached_to_by_the_next_submission_of_its_id_once() -> None:
    ha = MemoryHaServices()
    first = dispatcher(ha, "s1")
    jg = job_graph(1)
    await first.submit_job(jg)
    await first.suspend("leadership revoked")
    second = dispatcher(ha, "s2")
    assert await second.recover_jobs() == [jg.job_id]
    master = second.job_masters[jg.job_id]
    assert await second.submit_job(jg) == jg.job_id  # the re-run main attaches: still the recovered JobMaster
    assert second.job_masters[jg.job_id] is master and len(second.job_masters) == 1
    with pytest.raises(DuplicateJobSubmissionError, match="is still running"):
        await second.submit_job(jg)  # a second submission is a duplicate again
    await second.stop()


@synchronously
async def test_without_ha_a_finished_job_is_refused_by_the_embedded_store_too() -> None:
    ha = StandaloneHaServices()
    leader = dispatcher(ha, "")
    jg = job_graph(1)
    await leader.submit_job(jg)
    await leader.cancel_job(jg.job_id)
    await until(lambda: ha.job_result_store().has_clean_job_result_entry(jg.job_id), "the entry marked clean")
    with pytest.raises(DuplicateJobSubmissionError, match="globally terminal"):
        await leader.submit_job(jg)
    await leader.stop()


def test_cleanup_all_data_forgets_every_job_and_result() -> None:
    ha = MemoryHaServices()
    jg = job_graph(1)
    ha.job_graph_store().put(jg)
    ha.checkpoint_pointer_store(jg.job_id).add(2, "file:///chk-2")
    ha.checkpoint_id_counter(jg.job_id).advance_to(3)
    ha.job_result_store().create_dirty_result(result(JOB))
    ha.cleanup_all_data()
    assert ha.job_graph_store().job_ids() == [] and ha.checkpoint_pointer_store(jg.job_id).pointers() == []
    assert ha.checkpoint_id_counter(jg.job_id).get() == 1 and not ha.job_result_store().has_job_result_entry(JOB)
