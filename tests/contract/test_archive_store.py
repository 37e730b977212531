"""The archive's store path, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time

import orjson
import pytest
from helpers.dicom_files import ct_instance, part10_bytes, spool
from sqlalchemy import func, select, update

from hounsfield.archive.archive import Archive
from hounsfield.archive.index import writer
from hounsfield.archive.index.schema import instance, patient, series, study
from hounsfield.archive.record import Disposition
from hounsfield.dicom import status
from hounsfield.errors import StorageUnavailableError


def store(archive: Archive, data: bytes, **kwargs):
    return archive.store_file(spool(data, archive.blobs.spool_dir), **kwargs)


def unsettled(archive: Archive) -> list[str]:
    return archive.blobs.unsettled(time.time() + 60)


def rows(archive: Archive, table, *columns):
    with archive.engine.connect() as conn:
        return conn.execute(select(*(columns or (table,)))).all()


def test_stored_blob_is_byte_identical_to_what_was_sent(archive: Archive) -> None:
    data = part10_bytes(ct_instance())
    outcome = store(archive, data)
    assert outcome.disposition is Disposition.STORED
    [(key,)] = rows(archive, instance, instance.c.blob_key)
    with archive.blobs.open(key) as f:
        assert f.read() == data


def test_spooled_file_is_taken_over(archive: Archive) -> None:
    path = spool(part10_bytes(ct_instance()), archive.blobs.spool_dir)
    archive.store_file(path)
    assert not path.exists()


def test_counters_and_lists_are_kept_at_store_time(archive: Archive) -> None:
    st = "1.2.3.4.100"
    for i, (se, modality) in enumerate([("1.2.3.4.100.1", "CT"), ("1.2.3.4.100.1", "CT"),
                                        ("1.2.3.4.100.2", "PR")]):
        assert store(archive, part10_bytes(ct_instance(st, se, seed=i, modality=modality))
                     ).disposition is Disposition.STORED
    [row] = rows(archive, study, study.c.number_of_series, study.c.number_of_instances,
                 study.c.modalities_in_study, study.c.sop_classes_in_study)
    assert tuple(row) == (2, 3, "CT\\PR", "1.2.840.10008.5.1.4.1.1.2")
    counts = dict(rows(archive, series, series.c.series_instance_uid,
                       series.c.number_of_instances))
    assert counts == {"1.2.3.4.100.1": 2, "1.2.3.4.100.2": 1}


def test_same_patient_id_shares_one_patient_row(archive: Archive) -> None:
    store(archive, part10_bytes(ct_instance(patient_id="P1", seed=1)))
    store(archive, part10_bytes(ct_instance(patient_id="P1", seed=2)))
    store(archive, part10_bytes(ct_instance(patient_id="", seed=3)))
    store(archive, part10_bytes(ct_instance(patient_id="", seed=4)))
    ids = sorted((r[0] or "") for r in rows(archive, patient, patient.c.patient_id))
    assert ids == ["", "", "P1"]


def test_same_instance_twice_is_idempotent(archive: Archive) -> None:
    data = part10_bytes(ct_instance())
    assert store(archive, data).disposition is Disposition.STORED
    again = store(archive, data)
    assert again.disposition is Disposition.ALREADY_STORED and again.stored
    assert rows(archive, study, study.c.number_of_instances) == [(1,)]
    assert len(archive.blobs.keys()) == 1


def _as_indexed_with_sha256(archive: Archive, data: bytes) -> None:
    """Give the stored row the SHA-256 digest a row indexed before BLAKE3 holds."""
    with archive.engine.begin() as conn:
        conn.execute(update(instance).values(digest=hashlib.sha256(data).hexdigest()))


@pytest.mark.parametrize("look_first", [False, True])
def test_an_instance_indexed_with_sha256_is_found_the_same_when_sent_again(
        archive: Archive, look_first: bool) -> None:
    data = part10_bytes(ct_instance())
    assert store(archive, data).disposition is Disposition.STORED
    _as_indexed_with_sha256(archive, data)
    again = store(archive, data, look_first=look_first)
    assert again.disposition is Disposition.ALREADY_STORED, again.message
    assert rows(archive, study, study.c.number_of_instances) == [(1,)]
    assert len(archive.blobs.keys()) == 1 and unsettled(archive) == []


def test_another_object_under_a_uid_indexed_with_sha256_is_rejected(archive: Archive) -> None:
    sop = "1.2.3.4.5.6.9"
    first = part10_bytes(ct_instance(sop=sop, seed=1))
    store(archive, first)
    _as_indexed_with_sha256(archive, first)
    outcome = store(archive, part10_bytes(ct_instance(sop=sop, seed=2)))
    assert outcome.failure_reason == status.DUPLICATE_SOP_INSTANCE
    assert len(archive.blobs.keys()) == 1 and unsettled(archive) == []


def test_other_object_with_same_uid_is_rejected_by_default(archive: Archive) -> None:
    sop = "1.2.3.4.5.6.7"
    first = part10_bytes(ct_instance(sop=sop, seed=1))
    store(archive, first)
    outcome = store(archive, part10_bytes(ct_instance(sop=sop, seed=2)))
    assert outcome.disposition is Disposition.FAILED
    assert outcome.failure_reason == status.DUPLICATE_SOP_INSTANCE
    assert sop in (outcome.message or "")
    [(key,)] = rows(archive, instance, instance.c.blob_key)
    with archive.blobs.open(key) as f:
        assert f.read() == first
    assert archive.blobs.keys() == [key]


def test_replace_policy_swaps_the_object_and_moves_counters(archive: Archive) -> None:
    replacing = Archive(dataclasses.replace(archive.settings, duplicate_policy="replace"),
                        archive.engine, archive.blobs)
    sop = "1.2.3.4.5.6.8"
    store(replacing, part10_bytes(ct_instance("1.2.3.1", "1.2.3.1.1", sop, seed=1)))
    newer = part10_bytes(ct_instance("1.2.3.2", "1.2.3.2.1", sop, seed=2))
    assert store(replacing, newer).disposition is Disposition.REPLACED
    [(key,)] = rows(archive, instance, instance.c.blob_key)
    with archive.blobs.open(key) as f:
        assert f.read() == newer
    assert archive.blobs.keys() == [key]
    assert rows(archive, study, study.c.study_instance_uid) == [("1.2.3.2",)]
    assert unsettled(archive) == []


def test_study_uid_mismatch_is_refused(archive: Archive) -> None:
    outcome = store(archive, part10_bytes(ct_instance("1.2.3.9")), expected_study="1.2.3.8")
    assert outcome.failure_reason == status.STUDY_INSTANCE_UID_MISMATCH
    assert rows(archive, instance) == [] and archive.blobs.keys() == []


def test_not_dicom_is_refused_and_nothing_is_left(archive: Archive) -> None:
    outcome = store(archive, b"hello, this is not DICOM" * 10)
    assert outcome.failure_reason == status.CANNOT_UNDERSTAND
    assert "Part 10" in (outcome.message or "")
    assert rows(archive, instance) == [] and archive.blobs.keys() == []
    assert list(archive.blobs.spool_dir.iterdir()) == []


def test_truncated_file_is_refused(archive: Archive) -> None:
    data = part10_bytes(ct_instance(rows=64, columns=64))
    outcome = store(archive, data[: len(data) - 100])
    assert outcome.failure_reason == status.CANNOT_UNDERSTAND
    assert "truncated" in (outcome.message or "")
    assert archive.blobs.keys() == []


def test_invalid_uid_is_refused(archive: Archive) -> None:
    outcome = store(archive, part10_bytes(ct_instance(sop="1.2.03.4")))
    assert outcome.failure_reason == status.DATA_SET_DOES_NOT_MATCH_SOP_CLASS
    assert "SOPInstanceUID" in (outcome.message or "")


def test_metadata_and_frames_are_precomputed(archive: Archive) -> None:
    ds = ct_instance(rows=8, columns=4, frames=3)
    data = part10_bytes(ds)
    store(archive, data)
    [(meta, frames)] = rows(archive, instance, instance.c.metadata_json, instance.c.frames_json)
    model = orjson.loads(meta)
    assert model["00080018"]["Value"] == [ds.SOPInstanceUID]
    assert model["7FE00010"]["BulkDataURI"].endswith(f"/instances/{ds.SOPInstanceUID}/pixeldata")
    table = orjson.loads(frames)
    assert len(table) == 3
    pixels = bytes(ds.PixelData)
    for i, [[offset, length]] in enumerate(table):
        assert data[offset:offset + length] == pixels[i * 64:(i + 1) * 64]


def test_recover_deletes_unreferenced_journalled_blobs(archive: Archive) -> None:
    store(archive, part10_bytes(ct_instance()))
    [(kept,)] = rows(archive, instance, instance.c.blob_key)
    orphan_src = spool(part10_bytes(ct_instance(seed=9)), archive.blobs.spool_dir, "o.dcm")
    orphan = "1.2.3/1.2.3.4/1.2.3.4.5.0123456789abcdef.dcm"
    archive.blobs.put_file(orphan, orphan_src)  # a crash before its index commit leaves this
    archive.blobs.journal(kept)  # a crash between its commit and its settling
    assert archive.recover(grace_seconds=0) == 2
    assert archive.blobs.keys() == [kept]
    assert unsettled(archive) == []


def test_readiness_check_passes_then_fails_without_blob_storage(archive: Archive) -> None:
    archive.check()
    shutil.rmtree(archive.blobs.spool_dir)
    with pytest.raises(StorageUnavailableError, match="blob store not writable"):
        archive.check()


def test_each_store_adds_one_instance_row(archive: Archive) -> None:
    for i in range(5):
        store(archive, part10_bytes(ct_instance("1.2.3.77", "1.2.3.77.1", seed=i)))
    with archive.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(instance)).scalar() == 5


def test_concurrent_stores_of_one_uid_keep_one_object(archive: Archive) -> None:
    """Racing stores of different objects with one SOP Instance UID: one wins, the
    others fail with 0111H, and the winner's bytes are what is stored."""
    import threading

    sop = "1.2.3.4.5.6.99"
    datas = [part10_bytes(ct_instance("1.2.3.99", "1.2.3.99.1", sop, seed=i))
             for i in range(6)]
    outcomes: list = [None] * len(datas)
    paths = [spool(d, archive.blobs.spool_dir, f"r{i}.dcm") for i, d in enumerate(datas)]

    def run(i: int) -> None:
        outcomes[i] = archive.store_file(paths[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(datas))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [i for i, o in enumerate(outcomes) if o.disposition is Disposition.STORED]
    assert len(stored) == 1
    assert all(o.failure_reason == status.DUPLICATE_SOP_INSTANCE
               for i, o in enumerate(outcomes) if i not in stored)
    [(key,)] = rows(archive, instance, instance.c.blob_key)
    with archive.blobs.open(key) as f:
        assert f.read() == datas[stored[0]]
    assert archive.blobs.keys() == [key] and unsettled(archive) == []


def _held_writer(archive: Archive):
    """Hold the index writer on a piece of work until the returned event is set, so that
    stores submitted meanwhile are committed together, in one batch."""
    import threading

    gate, started = threading.Event(), threading.Event()

    def hold(conn) -> None:
        started.set()
        gate.wait(10)

    holder = threading.Thread(target=archive._write, args=(hold,))
    holder.start()
    assert started.wait(10)
    return gate, holder


def _store_in_one_batch(archive: Archive, datas: list[bytes]) -> list:
    """Store `datas` from threads of their own while the writer is held: their index
    rows are written by one call of the set-based insert."""
    import threading

    gate, holder = _held_writer(archive)
    outcomes: list = [None] * len(datas)
    paths = [spool(d, archive.blobs.spool_dir, f"b{i}.dcm") for i, d in enumerate(datas)]

    def run(i: int) -> None:
        outcomes[i] = archive.store_file(paths[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(datas))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while archive._committer.waiting() < len(datas) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert archive._committer.waiting() == len(datas)
    gate.set()
    for t in threads + [holder]:
        t.join()
    return outcomes


def test_a_batch_of_many_studies_and_series_keeps_every_counter(archive: Archive) -> None:
    plan = [("1.2.3.61", "1.2.3.61.1", "CT"), ("1.2.3.62", "1.2.3.62.1", "MR"),
            ("1.2.3.61", "1.2.3.61.2", "PR"), ("1.2.3.61", "1.2.3.61.1", "CT"),
            ("1.2.3.62", "1.2.3.62.1", "MR"), ("1.2.3.61", "1.2.3.61.1", "CT")]
    datas = [part10_bytes(ct_instance(st, se, seed=i, modality=m))
             for i, (st, se, m) in enumerate(plan)]
    outcomes = _store_in_one_batch(archive, datas)
    assert [o.disposition for o in outcomes] == [Disposition.STORED] * len(datas)
    studies = {r[0]: tuple(r[1:]) for r in rows(
        archive, study, study.c.study_instance_uid, study.c.number_of_series,
        study.c.number_of_instances, study.c.size_bytes, study.c.modalities_in_study)}
    size = {st: sum(len(d) for d, (s, _, _) in zip(datas, plan, strict=True) if s == st)
            for st in ("1.2.3.61", "1.2.3.62")}
    assert studies == {"1.2.3.61": (2, 4, size["1.2.3.61"], "CT\\PR"),
                       "1.2.3.62": (1, 2, size["1.2.3.62"], "MR")}
    counts = dict(rows(archive, series, series.c.series_instance_uid,
                       series.c.number_of_instances))
    assert counts == {"1.2.3.61.1": 3, "1.2.3.61.2": 1, "1.2.3.62.1": 2}
    stored = {r[0] for r in rows(archive, instance, instance.c.sop_instance_uid)}
    assert stored == {o.sop_instance_uid for o in outcomes}
    assert unsettled(archive) == []


def test_a_batch_with_instances_stored_before_inserts_only_the_new_ones(
        archive: Archive) -> None:
    """Instances stored already are found by the transaction that would insert them:
    the same object is answered as stored, another object with its SOP Instance UID is
    refused, the new ones of the same batch are stored, and no blob is left over."""
    st, se = "1.2.3.77", "1.2.3.77.1"
    same = part10_bytes(ct_instance(st, se, "1.2.3.77.1.1", seed=1))
    before = part10_bytes(ct_instance(st, se, "1.2.3.77.1.2", seed=2))
    assert store(archive, same).stored and store(archive, before).stored
    other = part10_bytes(ct_instance(st, se, "1.2.3.77.1.2", seed=3))  # same UID
    news = [part10_bytes(ct_instance(st, se, f"1.2.3.77.1.{n}", seed=n)) for n in (4, 5)]
    outcomes = _store_in_one_batch(archive, [same, other, *news])
    assert [o.disposition for o in outcomes] == [
        Disposition.ALREADY_STORED, Disposition.FAILED, Disposition.STORED,
        Disposition.STORED]
    assert outcomes[1].failure_reason == status.DUPLICATE_SOP_INSTANCE
    assert rows(archive, series, series.c.number_of_instances) == [(4,)]
    keys = sorted(key for (key,) in rows(archive, instance, instance.c.blob_key))
    assert archive.blobs.keys() == keys and unsettled(archive) == []
    with archive.blobs.open(next(k for k in keys if "1.2.3.77.1.2." in k)) as f:
        assert f.read() == before


def test_look_first_answers_a_stored_instance_without_writing_a_blob(
        archive: Archive, monkeypatch) -> None:
    data = part10_bytes(ct_instance())
    assert store(archive, data).stored
    puts: list[str] = []
    monkeypatch.setattr(archive.blobs, "put_file", lambda key, path: puts.append(key))
    assert store(archive, data, look_first=True).disposition is Disposition.ALREADY_STORED
    assert puts == []


def test_an_instance_whose_series_is_in_another_study_is_refused(archive: Archive) -> None:
    assert store(archive, part10_bytes(ct_instance("1.2.3.71", "1.2.3.71.1", seed=1))
                 ).disposition is Disposition.STORED
    stray = part10_bytes(ct_instance("1.2.3.72", "1.2.3.71.1", seed=2))
    good = part10_bytes(ct_instance("1.2.3.73", "1.2.3.73.1", seed=3))
    refused, stored = _store_in_one_batch(archive, [stray, good])
    assert refused.disposition is Disposition.FAILED
    assert refused.failure_reason == status.PROCESSING_FAILURE
    assert "1.2.3.71.1" in refused.message and "another study" in refused.message
    assert stored.disposition is Disposition.STORED
    assert sorted(r[0] for r in rows(archive, study, study.c.study_instance_uid)) == [
        "1.2.3.71", "1.2.3.73"]
    assert rows(archive, series, series.c.number_of_instances,
                series.c.series_instance_uid)[0][0] == 1
    assert len(archive.blobs.keys()) == 2 and unsettled(archive) == []


def test_a_store_after_the_index_connection_was_lost_succeeds(archive: Archive) -> None:
    """The index writer keeps its connection between transactions; when the database
    server ends it (a restart), the next store reconnects instead of failing."""
    if archive.engine.dialect.name != "postgresql":
        pytest.skip("a server database's connection can be lost; SQLite's cannot")
    from sqlalchemy import create_engine, text

    assert store(archive, part10_bytes(ct_instance(seed=1))).disposition is Disposition.STORED
    writer_conn = archive._writer
    pid = writer_conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    writer_conn.rollback()
    admin = create_engine(archive.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    outcome = store(archive, part10_bytes(ct_instance(seed=2)))
    assert outcome.disposition is Disposition.STORED, outcome.message
    assert archive._writer is not writer_conn
    assert len(rows(archive, instance, instance.c.pk)) == 2


def test_the_blob_store_is_told_to_start_writing_before_the_file_is_parsed(
        archive: Archive, monkeypatch) -> None:
    from hounsfield.archive import archive as archive_module

    calls: list[tuple[str, str]] = []
    start, put = archive.blobs.start_writing, archive.blobs.put_file
    describe = archive_module.describe_file
    monkeypatch.setattr(archive.blobs, "start_writing",
                        lambda path: calls.append(("start", path.name)) or start(path))
    monkeypatch.setattr(archive.blobs, "put_file",
                        lambda key, path: calls.append(("put", path.name)) or put(key, path))
    monkeypatch.setattr(archive_module, "describe_file",
                        lambda path, **kw: calls.append(("parse", path.name))
                        or describe(path, **kw))
    path = spool(part10_bytes(ct_instance()), archive.blobs.spool_dir)
    assert archive.store_file(path).disposition is Disposition.STORED
    assert calls == [("start", path.name), ("parse", path.name), ("put", path.name)]


def test_a_blob_key_is_referenced_only_by_the_row_that_holds_it(archive: Archive) -> None:
    """Found through the key's SOP Instance UID (the blob key has no index)."""
    store(archive, part10_bytes(ct_instance()))
    [(key,)] = rows(archive, instance, instance.c.blob_key)
    other_version = key[:-len("0123456789abcdef.dcm")] + "0123456789abcdef.dcm"
    other_instance = key.replace(".dcm", "").rpartition("/")[0] + "/1.2.3.0123456789abcdef.dcm"
    with archive.engine.connect() as conn:
        assert writer.is_referenced(conn, key)
        assert not writer.is_referenced(conn, other_version)
        assert not writer.is_referenced(conn, other_instance)
        assert not writer.is_referenced(conn, "not a key blob_key makes")
