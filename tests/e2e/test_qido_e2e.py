"""QIDO-RS against a real server process, with dicomweb-client."""

from __future__ import annotations

import pytest
from dicomweb_client.api import DICOMwebClient
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import ct_instance
from pydicom import dcmread

from .server import Server

pytestmark = pytest.mark.e2e
STUDY = "2.25.4711"


def test_dicomweb_client_searches(server: Server) -> None:
    client = DICOMwebClient(server.rs)
    generated = []
    for number in range(1, 5):
        ds = ct_instance(STUDY, f"{STUDY}.1", f"{STUDY}.1.{number}", seed=number)
        ds.PatientName, ds.InstanceNumber = "Search^Me", number
        generated.append(ds)
    real = dcmread(pydicom_test_file("CT_small.dcm"))
    client.store_instances(generated + [real])

    studies = client.search_for_studies(search_filters={"PatientName": "search*"})
    assert [s["0020000D"]["Value"] for s in studies] == [[STUDY]]
    assert studies[0]["00201208"]["Value"] == ["4"]

    studies = client.search_for_studies(fuzzymatching=True,
                                        search_filters={"PatientName": "ct1 compr"})
    assert [s["0020000D"]["Value"][0] for s in studies] == [real.StudyInstanceUID]

    series = client.search_for_series(STUDY, fields=["SeriesDescription"])
    assert [s["0020000E"]["Value"][0] for s in series] == [f"{STUDY}.1"]
    # dicomweb-client sends "Host: 127.0.0.1" without the port; the URL follows the Host
    assert series[0]["00081190"]["Value"] == [
        f"http://127.0.0.1/aets/HOUNSFIELD/rs/studies/{STUDY}/series/{STUDY}.1"]

    instances = client.search_for_instances(STUDY, f"{STUDY}.1", limit=3, offset=1)
    assert [i["00080018"]["Value"][0] for i in instances] == [f"{STUDY}.1.{n}" for n in (2, 3, 4)]

    everything = client.search_for_instances(search_filters={"Modality": "CT"})
    assert {i["00080018"]["Value"][0] for i in everything} == \
        {d.SOPInstanceUID for d in generated} | {real.SOPInstanceUID}

    assert client.search_for_studies(search_filters={"PatientID": "nobody"}) == []
