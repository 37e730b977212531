"""WADO-URI parameters (PS3.18 2013 §8): every parameter's syntax and every restriction
between parameters, as a table of queries and the parameter each refusal names."""

from __future__ import annotations

import pytest

from hounsfield.dicom.render import JPEG, PNG, Region, RenderRequest, Window
from hounsfield.dicom.wado_uri_request import Preference, parse_wado_uri
from hounsfield.errors import BadRequestError, WadoUriParameterError

BASE = {"requestType": "WADO", "studyUID": "1.2.3", "seriesUID": "1.2.3.4",
        "objectUID": "1.2.3.4.5"}
DICOM = {"contentType": "application/dicom"}
LOSSY = "1.2.840.10008.1.2.4.50"  # JPEG Baseline
LOSSLESS = "1.2.840.10008.1.2.4.70"


def parse(**parameters: str):
    query = dict(BASE)
    for name, value in parameters.items():
        if value is None:
            query.pop(name)
        else:
            query[name] = value
    return parse_wado_uri(query)


# (parameters, the parameter the 400 names, a word of the message)
REFUSED = [
    # §8.1.1-8.1.4: required parameters and their syntax
    ({"requestType": None}, "requestType", "required"),
    ({"requestType": "RS"}, "requestType", "WADO"),
    ({"requestType": "wado"}, "requestType", "WADO"),
    ({"studyUID": None}, "studyUID", "required"),
    ({"studyUID": ""}, "studyUID", "required"),
    ({"seriesUID": None}, "seriesUID", "required"),
    ({"objectUID": None}, "objectUID", "required"),
    ({"studyUID": "1.02.3"}, "studyUID", "valid UID"),
    ({"seriesUID": "1.2.x"}, "seriesUID", "valid UID"),
    ({"objectUID": "1." + "2" * 64}, "objectUID", "valid UID"),
    ({"objectUID": "../1.2"}, "objectUID", "valid UID"),
    # §8.1.5 contentType
    ({"contentType": "jpeg"}, "contentType", "media type"),
    ({"contentType": "image/jpeg;q=2"}, "contentType", "q-value"),
    ({"contentType": "image/jpeg;q=0.12345"}, "contentType", "q-value"),
    ({"contentType": "image/jpeg;level"}, "contentType", "key=value"),
    ({"contentType": "image/jpeg;q=0"}, "contentType", "accepts nothing"),
    ({"contentType": "image/jpeg,"}, "contentType", "media type"),
    # §8.1.6 charset
    ({"charset": "utf 8"}, "charset", "character set"),
    ({"charset": "UTF-8;q=x"}, "charset", "q-value"),
    # §8.1.7 anonymize
    ({"anonymize": "true", **DICOM}, "anonymize", "yes"),
    ({"anonymize": "yes"}, "anonymize", "application/dicom"),
    ({"anonymize": "yes", "contentType": "image/png"}, "anonymize", "application/dicom"),
    # §8.2.1 annotation
    ({"annotation": "patient,series"}, "annotation", "not one of"),
    ({"annotation": ""}, "annotation", "not one of"),
    ({"annotation": "patient", **DICOM}, "annotation", "application/dicom"),
    # §8.2.2, §8.2.3 rows, columns
    ({"rows": "0"}, "rows", "outside"),
    ({"rows": "-5"}, "rows", "outside"),
    ({"rows": "12.5"}, "rows", "integer"),
    ({"rows": "99999"}, "rows", "outside"),
    ({"columns": "abc"}, "columns", "integer"),
    ({"columns": "0"}, "columns", "outside"),
    ({"rows": "64", **DICOM}, "rows", "application/dicom"),
    ({"columns": "64", **DICOM}, "columns", "application/dicom"),
    # §8.2.4 region
    ({"region": "0,0,1"}, "region", "four"),
    ({"region": "0,0,1,1,1"}, "region", "four"),
    ({"region": "0,0,1.5,1"}, "region", "between"),
    ({"region": "-0.1,0,1,1"}, "region", "between"),
    ({"region": "0.5,0,0.5,1"}, "region", "x1 < x2"),
    ({"region": "0,0.8,1,0.2"}, "region", "y1 < y2"),
    ({"region": "0,0,one,1"}, "region", "decimal"),
    ({"region": "0,0,nan,1"}, "region", "decimal"),
    ({"region": "0,0,1,1", **DICOM}, "region", "application/dicom"),
    # §8.2.5, §8.2.6 windowCenter, windowWidth
    ({"windowCenter": "40"}, "windowWidth", "required"),
    ({"windowWidth": "400"}, "windowCenter", "required"),
    ({"windowCenter": "40", "windowWidth": "0.5"}, "windowWidth", "below 1"),
    ({"windowCenter": "40", "windowWidth": "-400"}, "windowWidth", "below 1"),
    ({"windowCenter": "forty", "windowWidth": "400"}, "windowCenter", "decimal"),
    ({"windowCenter": "40", "windowWidth": "inf"}, "windowWidth", "decimal"),
    ({"windowCenter": "40", "windowWidth": "400", **DICOM}, "windowCenter",
     "application/dicom"),
    ({"windowCenter": "40", "windowWidth": "400", "presentationUID": "1.2.9",
      "presentationSeriesUID": "1.2.8"}, "windowCenter", "presentationUID"),
    # §8.2.7 frameNumber
    ({"frameNumber": "0"}, "frameNumber", "outside"),
    ({"frameNumber": "first"}, "frameNumber", "integer"),
    ({"frameNumber": "2", **DICOM}, "frameNumber", "application/dicom"),
    # §8.2.8 imageQuality
    ({"imageQuality": "0"}, "imageQuality", "outside"),
    ({"imageQuality": "101"}, "imageQuality", "outside"),
    ({"imageQuality": "high"}, "imageQuality", "integer"),
    ({"imageQuality": "80", **DICOM}, "imageQuality", "application/dicom"),
    ({"imageQuality": "80", "transferSyntax": LOSSLESS, **DICOM}, "imageQuality",
     "DICOM object"),
    ({"imageQuality": "80", "transferSyntax": LOSSY}, "transferSyntax",
     "application/dicom"),
    # §8.2.9, §8.2.10 presentationUID, presentationSeriesUID
    ({"presentationUID": "1.2.9"}, "presentationSeriesUID", "required"),
    ({"presentationSeriesUID": "1.2.8"}, "presentationUID", "required"),
    ({"presentationUID": "1.2.09", "presentationSeriesUID": "1.2.8"}, "presentationUID",
     "valid UID"),
    ({"presentationUID": "1.2.9", "presentationSeriesUID": "x"},
     "presentationSeriesUID", "valid UID"),
    ({"presentationUID": "1.2.9", "presentationSeriesUID": "1.2.8", **DICOM},
     "presentationUID", "application/dicom"),
    # §8.2.11 transferSyntax
    ({"transferSyntax": "1.2.840.10008.1.2.1"}, "transferSyntax", "application/dicom"),
    ({"transferSyntax": "1.2.840.10008.1.2.1", "contentType": "image/jpeg"},
     "transferSyntax", "application/dicom"),
    ({"transferSyntax": "explicit", **DICOM}, "transferSyntax", "valid UID"),
    # one response cannot be both DICOM and rendered
    ({"anonymize": "yes", "rows": "64", "contentType": "application/dicom,image/jpeg"},
     "rows", "one response"),
    ({"transferSyntax": "*", "annotation": "patient",
      "contentType": "image/png,application/dicom"}, "annotation", "one response"),
]


@pytest.mark.parametrize(("parameters", "named", "word"), REFUSED)
def test_refused_parameters_name_the_parameter(parameters, named, word):
    with pytest.raises(WadoUriParameterError) as caught:
        parse(**parameters)
    error = caught.value
    assert isinstance(error, BadRequestError) and error.http_status == 400
    assert error.parameter == named
    assert error.message.startswith(named + " ")
    assert word in error.message


def test_a_parameter_given_twice_is_refused():
    pairs = list(BASE.items()) + [("rows", "10"), ("rows", "20")]
    with pytest.raises(WadoUriParameterError, match="rows is given more than once"):
        parse_wado_uri(pairs)


def test_minimal_request_defaults_to_jpeg():
    request = parse()
    assert (request.study_uid, request.series_uid, request.object_uid) == (
        "1.2.3", "1.2.3.4", "1.2.3.4.5")
    assert request.content_types == ()
    assert request.media_types == (Preference(JPEG),)
    assert request.render_request(JPEG) == RenderRequest(JPEG)


def test_content_types_are_ordered_by_q_value_keeping_ties_in_order():
    request = parse(contentType="image/png;q=0.5, image/gif ,image/jpeg;q=0.9,"
                                "application/dicom;q=0")
    assert [(p.value, p.quality) for p in request.content_types] == [
        ("image/gif", 1.0), ("image/jpeg", 0.9), ("image/png", 0.5)]


def test_media_type_parameters_are_kept():
    request = parse(contentType='application/dicom;transfer-syntax="1.2.840.10008.1.2.1"')
    assert request.content_types[0].parameters == (("transfer-syntax",
                                                    "1.2.840.10008.1.2.1"),)


def test_charsets_with_q_values():
    request = parse(charset="ISO_IR 192;q=0.4,UTF-8".replace(" ", "_"))
    assert [p.value for p in request.charsets] == ["utf-8", "iso_ir_192"]


def test_every_rendering_parameter_maps_to_the_render_request():
    request = parse(contentType="image/png", annotation="technique,patient", rows="256",
                    columns="200", region="0.25,0.1,0.75,0.9", windowCenter="-600",
                    windowWidth="1500.5", frameNumber="3", imageQuality="70")
    assert request.rendered_only and not request.dicom_only
    assert request.render_request(PNG) == RenderRequest(
        PNG, frame=3, window=Window(-600.0, 1500.5), viewport_width=200,
        viewport_height=256, region=Region(0.25, 0.1, 0.75, 0.9), quality=70,
        annotations=("technique", "patient"))


def test_dicom_parameters():
    request = parse(anonymize="yes", transferSyntax=LOSSY, imageQuality="80", **DICOM)
    assert request.anonymize and request.transfer_syntax == LOSSY
    assert request.image_quality == 80 and request.dicom_only


def test_any_transfer_syntax_is_accepted_as_in_dcm4chee():
    assert parse(transferSyntax="*", **DICOM).transfer_syntax == "*"


def test_mixed_content_types_keep_the_kind_the_parameters_ask_for():
    mixed = "application/dicom,image/jpeg;q=0.5"
    assert [p.value for p in parse(contentType=mixed).media_types] == [
        "application/dicom", "image/jpeg"]
    assert [p.value for p in parse(contentType=mixed, rows="64").media_types] == [
        "image/jpeg"]
    assert [p.value for p in parse(contentType=mixed, anonymize="yes").media_types] == [
        "application/dicom"]


def test_region_is_allowed_with_a_presentation_state():
    request = parse(region="0,0,0.5,0.5", presentationUID="1.2.9",
                    presentationSeriesUID="1.2.8")
    assert request.presentation_uid == "1.2.9"
    assert request.presentation_series_uid == "1.2.8"
    assert request.region == Region(0, 0, 0.5, 0.5)


def test_window_width_of_one_is_the_smallest():
    assert parse(windowCenter="10", windowWidth="1").window == Window(10.0, 1.0)


def test_unknown_parameters_are_reported_not_ignored():
    assert parse(foo="1", contentType="image/png").unknown_parameters == ("foo",)


def test_render_request_carries_the_presentation_state():
    marker = object()
    request = parse(presentationUID="1.2.9", presentationSeriesUID="1.2.8")
    assert request.render_request(JPEG, marker).presentation is marker  # type: ignore[arg-type]
