"""Pure parts of the reference DNS: names, record data, e-mail <-> SOA rname, zone files."""

from __future__ import annotations

import pytest

from pytest_interop.reference.dns import exceptions
from pytest_interop.reference.dns.models import _absolute, canonical_rdata, email_to_rname
from pytest_interop.reference.dns.tasks import parse_zone_file


@pytest.mark.parametrize(
    ("text", "zone", "ok"),
    [
        ("example.test.", True, True),
        ("Example.TEST.", True, True),
        ("example.test", True, False),  # no trailing dot
        ("_sip._tcp.example.test.", True, False),  # zones are host names
        ("_sip._tcp.example.test.", False, True),
        ("*.example.test.", False, True),
        ("a..example.test.", False, False),
        ("-bad.example.test.", False, False),
        ("x" * 64 + ".test.", False, False),
        (".", True, False),
        (None, True, False),
    ],
)
def test_names(text, zone, ok) -> None:
    if ok:
        assert _absolute(text, "name", zone=zone) == text.lower()
    else:
        with pytest.raises(exceptions.DesignateError) as refused:
            _absolute(text, "name", zone=zone)
        assert refused.value.status == 400


def test_record_data_is_made_absolute_or_refused() -> None:
    assert canonical_rdata("MX", "10 mail.example.org") == "10 mail.example.org."
    assert canonical_rdata("CNAME", "target.example.org.") == "target.example.org."
    assert canonical_rdata("AAAA", "2001:DB8::1") == "2001:db8::1"
    for rdtype, bad in [("A", "300.1.1.1"), ("AAAA", "192.0.2.1"), ("MX", "mail."), ("A", " ")]:
        with pytest.raises(exceptions.DesignateError):
            canonical_rdata(rdtype, bad)


def test_email_and_rname() -> None:
    assert email_to_rname("hostmaster@example.test") == "hostmaster.example.test."
    assert email_to_rname("first.last@example.test") == "first\\.last.example.test."


def test_a_zone_file_parses_to_the_zone_and_its_own_record_sets() -> None:
    text = (
        "$ORIGIN z.example.test.\n$TTL 900\n"
        "@ 900 IN SOA ns1.x.test. first\\.last.z.example.test. 5 3600 600 86400 3600\n"
        "@ IN NS ns1.x.test.\n"
        "@ IN MX 10 mx.example.org.\n"
        "www 60 IN A 192.0.2.1\nwww 60 IN A 192.0.2.2\n"
        "sub IN NS ns.elsewhere.test.\n"
    )
    name, email, ttl, records = parse_zone_file(text)
    assert (name, email, ttl) == ("z.example.test.", "first.last@z.example.test", 900)
    assert sorted(records) == [
        ("sub.z.example.test.", "NS", 900, ["ns.elsewhere.test."]),
        ("www.z.example.test.", "A", 60, ["192.0.2.1", "192.0.2.2"]),
        ("z.example.test.", "MX", 900, ["10 mx.example.org."]),
    ]
    with pytest.raises(ValueError, match="does not parse"):
        parse_zone_file("www IN A 192.0.2.1\n")  # no origin, no SOA
