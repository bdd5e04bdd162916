"""Reading host key fingerprints out of console logs as cloud-init wrote them over the years."""

from __future__ import annotations

from pytest_interop.nodes import normalize_fingerprint, parse_host_key_fingerprints

MODERN = """\
[    5.1] cloud-init[611]: Cloud-init v. 23.4.4 running 'modules:final'
<14>Nov 25 11:00:00 cloud-init: #############################################################
<14>Nov 25 11:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Nov 25 11:00:00 cloud-init: \
256 SHA256:r5ESqS3XtQGq2vZ0ZdJy2dnb2UqXwCHx81SvY1mDr3E root@vm (ECDSA)
<14>Nov 25 11:00:00 cloud-init: \
256 SHA256:Yq8gQ8Hvy0yPBQ9Yc3zCbMw0nHdN9K8sM1Cqk1d2E7A root@vm (ED25519)
<14>Nov 25 11:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
"""

LEGACY_MD5 = """\
ec2: #############################################################
ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
ec2: 2048 1b:2f:3c:4d:5e:6f:70:81:92:a3:B4:c5:d6:e7:f8:09  root@ip-10-0-0-1 (RSA)
ec2: -----END SSH HOST KEY FINGERPRINTS-----
"""

KEYS_ONLY = """\
-----BEGIN SSH HOST KEY KEYS-----
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/AAcQQpIJj1ZuYkMdnGlnwt39sppAkEeHEoiTE627R root@vm
-----END SSH HOST KEY KEYS-----
"""


def test_modern_sha256_block():
    assert parse_host_key_fingerprints(MODERN) == [
        "SHA256:r5ESqS3XtQGq2vZ0ZdJy2dnb2UqXwCHx81SvY1mDr3E",
        "SHA256:Yq8gQ8Hvy0yPBQ9Yc3zCbMw0nHdN9K8sM1Cqk1d2E7A",
    ]


def test_legacy_md5_block():
    assert parse_host_key_fingerprints(LEGACY_MD5) == [
        "MD5:1b:2f:3c:4d:5e:6f:70:81:92:a3:b4:c5:d6:e7:f8:09"
    ]


def test_keys_block_alone_gives_sha256_of_the_keys():
    (fingerprint,) = parse_host_key_fingerprints(KEYS_ONLY)
    assert fingerprint.startswith("SHA256:") and len(fingerprint) == 50


def test_last_block_wins_after_a_rebuild():
    rebuilt = MODERN.replace("r5ES", "AAAA").replace("Yq8g", "BBBB")
    fingerprints = parse_host_key_fingerprints(MODERN + "reboot\n" + rebuilt)
    assert all(f.startswith(("SHA256:AAAA", "SHA256:BBBB")) for f in fingerprints)


def test_no_block_gives_empty_list():
    assert parse_host_key_fingerprints("") == []
    assert parse_host_key_fingerprints("booting...\nlogin: ") == []


def test_normalize_fingerprint_forms():
    assert normalize_fingerprint("SHA256:abc=") == "SHA256:abc"
    assert normalize_fingerprint("abc") == "SHA256:abc"
    md5 = "1B:2f:3c:4d:5e:6f:70:81:92:a3:b4:c5:d6:e7:f8:09"
    assert normalize_fingerprint(md5) == "MD5:" + md5.lower()
    assert normalize_fingerprint("MD5:" + md5) == "MD5:" + md5.lower()
