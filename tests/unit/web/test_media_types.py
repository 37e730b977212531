"""Content-Type and Accept parsing (RFC 9110 §8.3.1, §12.5.1; PS3.18 §8.7)."""

from __future__ import annotations

import pytest

from hounsfield.errors import BadRequestError
from hounsfield.web.media_types import MediaRange, MediaType, parse_accept, parse_media_type

# Content-Type headers of STOW-RS requests as dcm4chee's samples and clients send them.
DCM4CHEE_DICOM = (
    'multipart/related; type="application/dicom"; boundary=9d056d4f-1f1a-4488-9760-581378378090'
)
DCM4CHEE_RESTEASY = (
    'multipart/related;start="<fdb89c06-15e4-45cc-a9b2-2e48ba0d8ed0@resteasy-multipart>";'
    'type="application/dicom+xml"; boundary=31a077d1-31cc-4c93-9190-0a5c98661f38'
)
DCM4CHEE_CXF = (
    'multipart/related; type="application/xop+xml"; '
    'boundary="uuid:87b1feb2-f5b3-4ecf-a2bc-0c709dcd7900"; '
    'start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"'
)


@pytest.mark.parametrize(
    ("header", "type_", "params"),
    [
        (
            DCM4CHEE_DICOM,
            "multipart/related",
            {"type": "application/dicom", "boundary": "9d056d4f-1f1a-4488-9760-581378378090"},
        ),
        (
            DCM4CHEE_RESTEASY,
            "multipart/related",
            {
                "start": "<fdb89c06-15e4-45cc-a9b2-2e48ba0d8ed0@resteasy-multipart>",
                "type": "application/dicom+xml",
                "boundary": "31a077d1-31cc-4c93-9190-0a5c98661f38",
            },
        ),
        (
            DCM4CHEE_CXF,
            "multipart/related",
            {
                "type": "application/xop+xml",
                "boundary": "uuid:87b1feb2-f5b3-4ecf-a2bc-0c709dcd7900",
                "start": "<root.message@cxf.apache.org>",
                "start-info": "application/soap+xml",
            },
        ),
        ("application/dicom", "application/dicom", {}),
        ("Application/DICOM+JSON", "application/dicom+json", {}),
        ("  text/plain  ", "text/plain", {}),
        ("text/plain;Charset=UTF-8", "text/plain", {"charset": "UTF-8"}),
        ("text/plain ; charset = utf-8 ", "text/plain", {"charset": "utf-8"}),
        ('text/plain; x="a;b"; y=2', "text/plain", {"x": "a;b", "y": "2"}),
        (r'text/plain; x="say \"hi\" \\o/"', "text/plain", {"x": 'say "hi" \\o/'}),
        ('text/plain; x=""', "text/plain", {"x": ""}),
        ('text/plain; x="a,b"', "text/plain", {"x": "a,b"}),
        ("text/plain;;x=1;", "text/plain", {"x": "1"}),
        (
            "multipart/related; boundary=----=_Part_0_1.2",
            "multipart/related",
            {"boundary": "----=_Part_0_1.2"},
        ),
        ("multipart/related; boundary=Case-Kept", "multipart/related", {"boundary": "Case-Kept"}),
        (
            'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
            "multipart/related",
            {"type": "application/dicom", "transfer-syntax": "1.2.840.10008.1.2.1"},
        ),
    ],
)
def test_parse_media_type_gives_lower_case_type_and_unquoted_params(header, type_, params):
    media_type = parse_media_type(header)
    assert media_type == MediaType(type_, params)
    assert list(media_type.params) == list(params)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        "application",
        "application/",
        "/dicom",
        "application/dicom/x",
        "application dicom",
        "application/dicom x",
        "application/dicom; charset",
        "application/dicom; charset=",
        "application/dicom; =utf-8",
        'application/dicom; charset="utf-8',
        'application/dicom; charset=utf"8',
        "application/dicom; charset=utf-8 x",
        "application/dicom; a=1; A=2",
        'text/plain; x="a\x01b"',
        "application/dicom, text/plain",
    ],
)
def test_parse_media_type_rejects_malformed_header(header):
    with pytest.raises(BadRequestError, match="media type|parameter"):
        parse_media_type(header)


@pytest.mark.parametrize(
    ("media_type", "text"),
    [
        (MediaType("application/dicom"), "application/dicom"),
        (MediaType("text/plain", {"charset": "utf-8"}), "text/plain; charset=utf-8"),
        (
            MediaType("multipart/related", {"type": "application/dicom", "boundary": "uuid:1"}),
            'multipart/related; type="application/dicom"; boundary="uuid:1"',
        ),
        (MediaType("text/plain", {"x": 'a "b" \\c'}), r'text/plain; x="a \"b\" \\c"'),
        (MediaType("text/plain", {"x": ""}), 'text/plain; x=""'),
    ],
)
def test_media_type_renders_quoting_only_what_is_not_a_token(media_type, text):
    assert str(media_type) == text


@pytest.mark.parametrize("header", [DCM4CHEE_DICOM, DCM4CHEE_RESTEASY, DCM4CHEE_CXF])
def test_rendered_media_type_parses_back_to_itself(header):
    media_type = parse_media_type(header)
    assert parse_media_type(str(media_type)) == media_type


def test_media_types_are_hashable_and_equal_by_value():
    first = parse_media_type("Text/Plain; A=1; b=2")
    second = parse_media_type("text/plain;b=2;a=1")
    assert first == second
    assert len({first, second}) == 1
    assert len({MediaRange("a/b", {"x": "1"}, 0.5), MediaRange("a/b", {"x": "1"}, 0.5)}) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", []),
        ("application/dicom+json", [MediaRange("application/dicom+json")]),
        ("*/*", [MediaRange("*/*")]),
        (
            "application/json;q=0.5, application/dicom+json",
            [MediaRange("application/dicom+json"), MediaRange("application/json", q=0.5)],
        ),
        # RFC 9110 §12.5.1 example: more specific ranges first at equal q.
        (
            "text/*, text/plain, text/plain;format=flowed, */*",
            [
                MediaRange("text/plain", {"format": "flowed"}),
                MediaRange("text/plain"),
                MediaRange("text/*"),
                MediaRange("*/*"),
            ],
        ),
        (
            "*/*;q=0.1, image/*;q=0.1, image/jpeg;q=0.1",
            [
                MediaRange("image/jpeg", q=0.1),
                MediaRange("image/*", q=0.1),
                MediaRange("*/*", q=0.1),
            ],
        ),
        # Equal q and specificity: the client's order is kept.
        ("image/png, image/jpeg", [MediaRange("image/png"), MediaRange("image/jpeg")]),
        # PS3.18 §8.7.3.5: multipart ranges with type and transfer-syntax parameters.
        (
            'multipart/related; type="application/dicom"; transfer-syntax=*; q=0.9, '
            'multipart/related; type="application/octet-stream"',
            [
                MediaRange("multipart/related", {"type": "application/octet-stream"}),
                MediaRange(
                    "multipart/related",
                    {"type": "application/dicom", "transfer-syntax": "*"},
                    q=0.9,
                ),
            ],
        ),
        (
            'text/plain; x="a,b", text/html',
            [MediaRange("text/plain", {"x": "a,b"}), MediaRange("text/html")],
        ),
        (" , text/html ,, ", [MediaRange("text/html")]),
        ("text/html;", [MediaRange("text/html")]),
        ("TEXT/HTML;Q=0", [MediaRange("text/html", q=0.0)]),
        ("text/html;q=1.000", [MediaRange("text/html")]),
        ("text/html;q=0.123", [MediaRange("text/html", q=0.123)]),
        ("text/html;q=0.", [MediaRange("text/html", q=0.0)]),
    ],
)
def test_parse_accept_orders_by_q_then_specificity(header, expected):
    assert parse_accept(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "text/html;q=2",
        "text/html;q=1.5",
        "text/html;q=0.1234",
        "text/html;q=-1",
        "text/html;q=abc",
        "text/html;q=.5",
        "text/html;q=1.001",
    ],
)
def test_parse_accept_rejects_invalid_q(header):
    with pytest.raises(BadRequestError, match="invalid q value"):
        parse_accept(header)


@pytest.mark.parametrize(
    "header", ["text", "text/html x", "text/html; a", "*/html", "text/html;q=1;q=1"]
)
def test_parse_accept_rejects_malformed_header(header):
    with pytest.raises(BadRequestError):
        parse_accept(header)


def test_media_range_renders_q_only_when_below_one():
    assert str(MediaRange("image/*", {"x": "1"}, q=0.5)) == "image/*; x=1; q=0.5"
    assert str(MediaRange("image/*")) == "image/*"
