"""A QIDO-RS benchmark archive: 100,000 studies and 1,000,000 instances, generated.

Distributions meant to look like a hospital archive (seeded, so every run builds the
same data): 40,000 patients with names drawn from common family and given names, birth
dates 1930-2020, one to many studies each; study dates spread over 20 years
(2006-2025) at working hours; accession numbers; a modality mix (CT, MR, CR, DX, US,
MG, PT, NM, XA, RF) with series and instance counts per modality, 15% of studies with an
extra SR or PR series; every 200th study with a CT series of exactly 100 instances. The
counts are scaled so that the total is exactly the target.

`fill_index` writes the rows straight into the index tables (bulk INSERTs in batches,
no blobs: the blob key points nowhere); each instance gets a small DICOM JSON metadata
document like the store path would compute. `orthanc_datasets` gives the first studies
as real DICOM data sets (8x8 pixels) to load into Orthanc.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FAMILY = _words("SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ "
          "HERNANDEZ LOPEZ GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE "
          "PEREZ THOMPSON WHITE HARRIS SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG "
          "ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS NELSON BAKER HALL "
          "RIVERA CAMPBELL MITCHELL CARTER ROBERTS MUELLER SCHMIDT SCHNEIDER FISCHER WEBER "
          "MEYER WAGNER BECKER SCHULZ HOFFMANN DUBOIS LAURENT BERNARD MOREAU PETIT ROSSI "
          "RUSSO FERRARI ESPOSITO BIANCHI ROMANO COLOMBO JANSEN DEVRIES BAKKER VISSER "
          "NOWAK KOWALSKI WOJCIK KOWALCZYK IVANOV SMIRNOV KUZNETSOV POPOV SILVA SANTOS "
          "OLIVEIRA SOUZA PEREIRA COSTA TANAKA SUZUKI WATANABE KIM PARK CHOI WANG LI ZHANG "
          "LIU CHEN YANG HUANG ZHAO")
GIVEN = _words("JAMES MARY JOHN PATRICIA ROBERT JENNIFER MICHAEL LINDA WILLIAM ELIZABETH DAVID "
         "BARBARA RICHARD SUSAN JOSEPH JESSICA THOMAS SARAH CHARLES KAREN DANIEL NANCY "
         "MATTHEW LISA ANTHONY BETTY MARK MARGARET PAUL SANDRA STEVEN ASHLEY ANDREW KIMBERLY "
         "JOSHUA EMILY KEVIN DONNA BRIAN MICHELLE GEORGE CAROL ANNA LUCAS EMMA NOAH SOPHIE "
         "LEON MIA ELIAS HANNAH FELIX LEA MAXIMILIAN MARIE PAUL LAURA JULIA MARCO GIULIA "
         "PIERRE CAMILLE HUGO CHLOE YUKI HARU MINJUN SEOYEON WEI FANG")
MODALITIES = {  # weight, (series min, max), (instances per series min, max)
    "CT": (30, (2, 4), (3, 12)), "MR": (18, (3, 6), (2, 6)), "CR": (14, (1, 2), (1, 1)),
    "DX": (12, (1, 2), (1, 1)), "US": (10, (1, 1), (3, 10)), "MG": (6, (4, 4), (1, 1)),
    "PT": (3, (2, 2), (5, 15)), "NM": (2, (1, 2), (2, 6)), "XA": (3, (1, 3), (3, 10)),
    "RF": (2, (1, 2), (2, 8)),
}
DESCRIPTIONS = {"CT": "CT HEAD W/O CONTRAST", "MR": "MR BRAIN", "CR": "CHEST 2 VIEWS",
                "DX": "KNEE LEFT", "US": "US ABDOMEN", "MG": "SCREENING MAMMOGRAPHY",
                "PT": "PET/CT WHOLE BODY", "NM": "BONE SCAN", "XA": "CORONARY ANGIOGRAPHY",
                "RF": "BARIUM SWALLOW"}
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SOP_CLASSES = {"CT": CT_IMAGE_STORAGE, "MR": "1.2.840.10008.5.1.4.1.1.4",
               "CR": "1.2.840.10008.5.1.4.1.1.1", "DX": "1.2.840.10008.5.1.4.1.1.1.1",
               "US": "1.2.840.10008.5.1.4.1.1.6.1", "MG": "1.2.840.10008.5.1.4.1.1.1.2",
               "PT": "1.2.840.10008.5.1.4.1.1.128", "NM": "1.2.840.10008.5.1.4.1.1.20",
               "XA": "1.2.840.10008.5.1.4.1.1.12.1", "RF": "1.2.840.10008.5.1.4.1.1.12.2",
               "SR": "1.2.840.10008.5.1.4.1.1.88.22", "PR": "1.2.840.10008.5.1.4.1.1.11.1"}
UID_ROOT = "2.25.4242"
HUNDRED_EVERY = 200  # every 200th study has a CT series of exactly 100 instances


@dataclass
class Patient:
    pk: int
    patient_id: str
    name: str
    birth_date: str
    sex: str


@dataclass
class SeriesPlan:
    number: int
    modality: str
    instances: int
    fixed: bool = False  # kept at its size when counts are scaled


@dataclass
class StudyPlan:
    pk: int
    patient: Patient
    date: str
    time: str
    accession: str
    referring: str
    description: str
    series: list[SeriesPlan] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return f"{UID_ROOT}.{self.pk}"

    def series_uid(self, number: int) -> str:
        return f"{self.uid}.{number}"


@dataclass
class Archive:
    patients: list[Patient]
    studies: list[StudyPlan]

    @property
    def instances(self) -> int:
        return sum(s.instances for study in self.studies for s in study.series)


def generate(studies: int = 100_000, instances: int = 1_000_000, seed: int = 20261123
             ) -> Archive:
    rng = random.Random(seed)
    patients = [_patient(rng, pk) for pk in range(1, max(1, studies * 2 // 5) + 1)]
    plans = [_study(rng, pk, rng.choice(patients)) for pk in range(1, studies + 1)]
    _scale(plans, instances)
    return Archive(patients, plans)


def _patient(rng: random.Random, pk: int) -> Patient:
    name = f"{rng.choice(FAMILY)}^{rng.choice(GIVEN)}"
    if rng.random() < 0.3:
        name = name.title()  # mixed case, as some modalities send it
    birth = f"{rng.randint(1930, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return Patient(pk, f"P{pk:07d}", name, birth, rng.choice("MF"))


def _study(rng: random.Random, pk: int, patient: Patient) -> StudyPlan:
    modality = rng.choices(list(MODALITIES), [w for w, _, _ in MODALITIES.values()])[0]
    _, (low, high), (inst_low, inst_high) = MODALITIES[modality]
    study = StudyPlan(pk, patient, _date(rng), f"{rng.randint(7, 19):02d}{rng.randint(0, 59):02d}"
                      f"{rng.randint(0, 59):02d}", f"A{pk:08d}",
                      f"{rng.choice(FAMILY).title()}^{rng.choice(GIVEN).title()}",
                      DESCRIPTIONS[modality])
    for number in range(1, rng.randint(low, high) + 1):
        study.series.append(SeriesPlan(number, modality, rng.randint(inst_low, inst_high)))
    if pk % HUNDRED_EVERY == 0:
        study.series.append(SeriesPlan(len(study.series) + 1, "CT", 100, fixed=True))
    if rng.random() < 0.15:
        study.series.append(SeriesPlan(len(study.series) + 1, rng.choice(["SR", "PR"]), 1,
                                       fixed=True))
    return study


def _date(rng: random.Random) -> str:
    day = rng.randrange(20 * 365)
    year, rest = 2006 + day // 365, day % 365
    month = min(12, rest // 30 + 1)
    return f"{year}{month:02d}{min(28, rest % 30 + 1):02d}"


def _scale(plans: list[StudyPlan], target: int) -> None:
    """Scale the free series' instance counts so that the total is exactly `target`."""
    free = [s for p in plans for s in p.series if not s.fixed]
    fixed = sum(s.instances for p in plans for s in p.series if s.fixed)
    factor = (target - fixed) / max(1, sum(s.instances for s in free))
    for series in free:
        series.instances = max(1, round(series.instances * factor))
    difference = target - fixed - sum(s.instances for s in free)
    step = 1 if difference > 0 else -1
    index = 0
    while difference:
        series = free[index % len(free)]
        if series.instances + step >= 1:
            series.instances += step
            difference -= step
        index += 1


# -- rows for the index tables ---------------------------------------------------------


def _value(vr: str, *values: object) -> dict:
    return {"vr": vr, "Value": list(values)} if values and values[0] not in ("", None) \
        else {"vr": vr}


def study_attributes(study: StudyPlan) -> dict:
    p = study.patient
    return {
        "00080005": _value("CS"), "00080020": _value("DA", study.date),
        "00080030": _value("TM", study.time), "00080050": _value("SH", study.accession),
        "00080090": {"vr": "PN", "Value": [{"Alphabetic": study.referring}]},
        "00081030": _value("LO", study.description),
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": p.name}]},
        "00100020": _value("LO", p.patient_id), "00100030": _value("DA", p.birth_date),
        "00100040": _value("CS", p.sex), "0020000D": _value("UI", study.uid),
        "00200010": _value("SH", f"S{study.pk}"),
    }


def instance_metadata(study_part: dict, study: StudyPlan, series: SeriesPlan,
                      number: int) -> bytes:
    uid = f"{study.series_uid(series.number)}.{number}"
    model = {
        **study_part,
        "00080016": _value("UI", SOP_CLASSES[series.modality]),
        "00080018": _value("UI", uid), "00080060": _value("CS", series.modality),
        "0008103E": _value("LO", f"{series.modality} series {series.number}"),
        "0020000E": _value("UI", study.series_uid(series.number)),
        "00200011": _value("IS", str(series.number)), "00200013": _value("IS", str(number)),
        "00280010": _value("US", 8), "00280011": _value("US", 8),
        "00280100": _value("US", 16),
        "7FE00010": {"vr": "OW", "BulkDataURI": f"/studies/{study.uid}/series/"
                     f"{study.series_uid(series.number)}/instances/{uid}/pixeldata"},
    }
    return orjson.dumps(dict(sorted(model.items())))


def rows(archive: Archive, now: float) -> Iterator[tuple[str, dict]]:
    """(table name, row) in an order the foreign keys accept."""
    for p in archive.patients:
        yield "patient", {"pk": p.pk, "patient_id": p.patient_id, "issuer_of_patient_id": "",
                          "patient_name": p.name,
                          "patient_birth_date": p.birth_date, "patient_sex": p.sex,
                          "created_at": now}
    series_pk = instance_pk = 0
    for study in archive.studies:
        yield "study", _study_row(study, now)
        study_part = study_attributes(study)
        for series in study.series:
            series_pk += 1
            yield "series", _series_row(study, series, series_pk, now)
            for number in range(1, series.instances + 1):
                instance_pk += 1
                yield "instance", _instance_row(study, series, series_pk, instance_pk, number,
                                                instance_metadata(study_part, study, series,
                                                                  number), now)


def _study_row(study: StudyPlan, now: float) -> dict:
    return {"pk": study.pk, "study_instance_uid": study.uid, "patient_fk": study.patient.pk,
            "study_date": study.date, "study_time": study.time,
            "accession_number": study.accession, "referring_physician_name": study.referring,
            "referring_physician_name_norm": study.referring.upper(),
            "patient_name_norm": study.patient.name.upper(),
            "study_description": study.description, "study_id": f"S{study.pk}",
            "modalities_in_study": "\\".join(sorted({s.modality for s in study.series})),
            "sop_classes_in_study": "\\".join(sorted({SOP_CLASSES[s.modality]
                                                      for s in study.series})),
            "number_of_series": len(study.series),
            "number_of_instances": sum(s.instances for s in study.series),
            "size_bytes": 0, "created_at": now, "updated_at": now}


def _series_row(study: StudyPlan, series: SeriesPlan, pk: int, now: float) -> dict:
    return {"pk": pk, "series_instance_uid": study.series_uid(series.number),
            "study_fk": study.pk, "modality": series.modality, "series_number": series.number,
            "series_description": f"{series.modality} series {series.number}",
            "number_of_instances": series.instances, "created_at": now, "updated_at": now}


def _instance_row(study: StudyPlan, series: SeriesPlan, series_pk: int, pk: int, number: int,
                  metadata: bytes, now: float) -> dict:
    uid = f"{study.series_uid(series.number)}.{number}"
    return {"pk": pk, "sop_instance_uid": uid, "series_fk": series_pk,
            "sop_class_uid": SOP_CLASSES[series.modality], "instance_number": number,
            "rows": 8, "columns": 8, "bits_allocated": 16,
            "transfer_syntax_uid": "1.2.840.10008.1.2.1", "number_of_frames": 1,
            "blob_key": f"bench/{pk}", "size_bytes": 0, "digest": "0" * 64,
            "metadata_json": metadata, "frames_json": None, "bulk_data_json": b"{}",
            "created_at": now}


# -- writing the index, and DICOM files for Orthanc -----------------------------------

ORDER = ("patient", "study", "series", "instance")
BATCH_ROWS = 20_000


def fill_index(engine, archive: Archive, progress=print) -> None:  # noqa: ANN001
    """Bulk INSERT every row (tables in foreign-key order within each batch); ANALYZE."""
    import time

    from sqlalchemy import insert, text

    from hounsfield.archive.index import schema
    from hounsfield.archive.index.engine import WRITE

    tables = {name: getattr(schema, name) for name in ORDER}
    buffers: dict[str, list[dict]] = {name: [] for name in ORDER}
    written = 0

    def flush() -> None:
        nonlocal written
        # WRITE: one transaction per batch (SQLite readers run in autocommit otherwise)
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            for name in ORDER:
                if buffers[name]:
                    conn.execute(insert(tables[name]), buffers[name])
                    written += len(buffers[name]) if name == "instance" else 0
                    buffers[name] = []
        progress(f"  {written:,} instances written")

    for name, row in rows(archive, time.time()):
        buffers[name].append(row)
        if len(buffers[name]) >= BATCH_ROWS:
            flush()
    flush()
    # statistics for the planner; on PostgreSQL also the visibility map (what autovacuum
    # would do soon after a bulk load), so that counts can be answered from indexes
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(statement))


def orthanc_datasets(archive: Archive, studies: int) -> Iterator[bytes]:
    """Part 10 bytes of every instance of the first `studies` studies (8x8 pixels)."""
    import io

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    pixels = bytes(128)
    for study in archive.studies[:studies]:
        for series in study.series:
            for number in range(1, series.instances + 1):
                ds = Dataset()
                for key, element in study_attributes(study).items():
                    _set(ds, key, element)
                uid = f"{study.series_uid(series.number)}.{number}"
                ds.SOPClassUID = SOP_CLASSES[series.modality]
                ds.SOPInstanceUID = uid
                ds.Modality = series.modality
                ds.SeriesInstanceUID = study.series_uid(series.number)
                ds.SeriesNumber, ds.InstanceNumber = series.number, number
                ds.SeriesDescription = f"{series.modality} series {series.number}"
                ds.Rows = ds.Columns = 8
                ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
                ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
                ds.PhotometricInterpretation = "MONOCHROME2"
                ds.PixelData = pixels
                ds.file_meta = FileMetaDataset()
                ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
                ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
                ds.file_meta.MediaStorageSOPInstanceUID = uid
                buffer = io.BytesIO()
                ds.save_as(buffer, enforce_file_format=True)
                yield buffer.getvalue()


def _set(ds, key: str, element: dict) -> None:  # noqa: ANN001
    from pydicom.datadict import keyword_for_tag

    values = element.get("Value") or [""]
    value = values[0]
    if isinstance(value, dict):
        value = value.get("Alphabetic", "")
    setattr(ds, keyword_for_tag(int(key, 16)), value)
