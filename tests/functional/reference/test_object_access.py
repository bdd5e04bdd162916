"""Who may do what in the reference Swift: ACLs, quotas, the reseller admin, temporary URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import openstack
import pytest
import requests

from tests.functional.reference.swift_client import Swift


@pytest.fixture(scope="module")
def owner(conn: openstack.connection.Connection) -> Swift:
    return Swift(conn)


@pytest.fixture(scope="module")
def peer(other_conn: openstack.connection.Connection) -> Swift:
    return Swift(other_conn)


@pytest.fixture(scope="module")
def admin(admin_conn: openstack.connection.Connection) -> Swift:
    return Swift(admin_conn)


@pytest.fixture
def box(owner: Swift, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"acl-{request.node.name[:40]}"
    assert owner("PUT", name).status_code == 201
    yield name
    listing = owner("GET", name, params={"format": "json"})
    for entry in listing.json() if listing.status_code == 200 else []:
        owner("DELETE", f"{name}/{entry['name']}")
    owner("DELETE", name)


# -- ACLs -------------------------------------------------------------------------------------
def test_read_acl_admits_the_named_project_to_read_only(owner: Swift, peer: Swift, box: str):
    owner("PUT", f"{box}/doc", data=b"shared")
    theirs = owner.account
    assert peer("GET", f"{box}/doc", account=theirs).status_code == 403
    project_id = peer.conn.current_project_id
    owner("POST", box, headers={"X-Container-Read": f"{project_id}:*"})
    assert peer("GET", f"{box}/doc", account=theirs).content == b"shared"
    assert peer("GET", box, account=theirs).text.split() == ["doc"]
    assert "X-Container-Read" not in peer("HEAD", box, account=theirs).headers  # owner-only
    assert owner("HEAD", box).headers["X-Container-Read"] == f"{project_id}:*"
    assert peer("PUT", f"{box}/doc", account=theirs, data=b"x").status_code == 403
    assert peer("DELETE", f"{box}/doc", account=theirs).status_code == 403
    assert peer("POST", box, account=theirs, headers={"X-Container-Read": "*:*"}).status_code == 403
    assert peer("DELETE", box, account=theirs).status_code == 403
    assert owner("GET", f"{box}/doc").content == b"shared"


def test_write_acl_admits_writes(owner: Swift, peer: Swift, box: str):
    project_id = peer.conn.current_project_id
    owner("POST", box, headers={"X-Container-Write": f"{project_id}:*"})
    put = peer("PUT", f"{box}/dropped", account=owner.account, data=b"from the peer")
    assert put.status_code == 201
    assert owner("GET", f"{box}/dropped").content == b"from the peer"
    assert peer("GET", f"{box}/dropped", account=owner.account).status_code == 403  # no read


def test_referrer_acl_lets_anyone_read_and_rlistings_list(owner: Swift, box: str):
    owner("PUT", f"{box}/open", data=b"public")
    url = f"{owner.endpoint}/{box}"
    assert requests.get(f"{url}/open", timeout=10).status_code == 401
    owner("POST", box, headers={"X-Container-Read": ".r:*"})
    assert requests.get(f"{url}/open", timeout=10).content == b"public"
    assert requests.get(url, timeout=10).status_code == 401
    owner("POST", box, headers={"X-Container-Read": ".r:*,.rlistings"})
    assert requests.get(url, timeout=10).text.split() == ["open"]
    assert requests.put(f"{url}/planted", data=b"x", timeout=10).status_code == 401


# -- quotas -------------------------------------------------------------------------------------
def test_container_quotas_refuse_with_413(owner: Swift, box: str):
    owner("POST", box, headers={"X-Container-Meta-Quota-Bytes": "5"})
    assert owner("PUT", f"{box}/a", data=b"12345").status_code == 201
    assert owner("PUT", f"{box}/b", data=b"1").status_code == 413
    owner("POST", box, headers={"X-Remove-Container-Meta-Quota-Bytes": "x"})
    owner("POST", box, headers={"X-Container-Meta-Quota-Count": "2"})
    assert owner("PUT", f"{box}/b", data=b"1").status_code == 201
    assert owner("PUT", f"{box}/c", data=b"1").status_code == 413
    copy = owner("COPY", f"{box}/a", headers={"Destination": f"{box}/d"})
    assert copy.status_code == 413  # a copy is an upload too


def test_account_quota_is_the_reseller_admins(owner: Swift, admin: Swift, box: str):
    refused = owner("POST", headers={"X-Account-Meta-Quota-Bytes": "1"})
    assert refused.status_code == 403
    used = int(owner("HEAD").headers["X-Account-Bytes-Used"])
    try:
        set_quota = admin(
            "POST", account=owner.account, headers={"X-Account-Meta-Quota-Bytes": str(used + 4)}
        )
        assert set_quota.status_code == 204
        assert owner("HEAD").headers["X-Account-Meta-Quota-Bytes"] == str(used + 4)
        assert owner("PUT", f"{box}/fits", data=b"1234").status_code == 201
        assert owner("PUT", f"{box}/over", data=b"1").status_code == 413
        # The owner may not lift it either.
        lift = owner("POST", headers={"X-Remove-Account-Meta-Quota-Bytes": "x"})
        assert lift.status_code == 403
    finally:
        admin("POST", account=owner.account, headers={"X-Remove-Account-Meta-Quota-Bytes": "x"})
    assert owner("PUT", f"{box}/over", data=b"1").status_code == 201


# -- temporary URLs -------------------------------------------------------------------------------
KEY = "tempurl-secret-key"


def sign(path: str, method: str, expires: int, key: str = KEY, digest=hashlib.sha1) -> str:
    return hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), digest).hexdigest()


@pytest.fixture
def keyed(owner: Swift) -> Iterator[Swift]:
    owner("POST", headers={"X-Account-Meta-Temp-URL-Key": KEY})
    yield owner
    owner("POST", headers={"X-Remove-Account-Meta-Temp-URL-Key": "x"})


def temp_url(owner: Swift, box: str, name: str, method: str = "GET", life: int = 60, **kw) -> str:
    path = f"{urlparse(owner.endpoint).path}/{box}/{name}"
    expires = int(time.time()) + life
    signature = kw.pop("signature", None) or sign(path, method, expires, **kw)
    return f"{owner.endpoint}/{box}/{name}?temp_url_sig={signature}&temp_url_expires={expires}"


def test_temp_url_get_head_and_put(keyed: Swift, box: str):
    keyed("PUT", f"{box}/o", data=b"data")
    got = requests.get(temp_url(keyed, box, "o"), timeout=10)
    assert got.content == b"data"
    assert got.headers["Content-Disposition"] == 'attachment; filename="o"'
    assert requests.head(temp_url(keyed, box, "o"), timeout=10).status_code == 200
    assert requests.put(temp_url(keyed, box, "o"), data=b"x", timeout=10).status_code == 401
    assert requests.delete(temp_url(keyed, box, "o", "DELETE"), timeout=10).status_code == 401
    put = requests.put(temp_url(keyed, box, "new", "PUT"), data=b"uploaded", timeout=10)
    assert put.status_code == 201 and keyed("GET", f"{box}/new").content == b"uploaded"
    assert requests.get(temp_url(keyed, box, "new", "PUT"), timeout=10).status_code == 401


def test_temp_url_refusals(keyed: Swift, box: str):
    keyed("PUT", f"{box}/o", data=b"data")
    assert requests.get(temp_url(keyed, box, "o", life=-1), timeout=10).status_code == 401
    assert requests.get(temp_url(keyed, box, "o", key="wrong"), timeout=10).status_code == 401
    moved = temp_url(keyed, box, "o").replace(f"/{box}/o?", f"/{box}/other?")
    keyed("PUT", f"{box}/other", data=b"secret")
    assert requests.get(moved, timeout=10).status_code == 401
    garbage = temp_url(keyed, box, "o", signature="zz")
    assert requests.get(garbage, timeout=10).status_code == 401
    # Swift signs the decoded path: a signature over the quoted one does not match.
    keyed("PUT", f"{box}/a b", data=b"spaced")
    path = f"{urlparse(keyed.endpoint).path}/{box}/a b"
    expires = int(time.time()) + 60
    query = f"temp_url_expires={expires}&temp_url_sig="
    good = f"{keyed.endpoint}/{box}/a%20b?{query}{sign(path, 'GET', expires)}"
    assert requests.get(good, timeout=10).content == b"spaced"
    quoted = path.replace(" ", "%20")
    bad = f"{keyed.endpoint}/{box}/a%20b?{query}{sign(quoted, 'GET', expires)}"
    assert requests.get(bad, timeout=10).status_code == 401
    keyed("POST", headers={"X-Remove-Account-Meta-Temp-URL-Key": "x"})
    assert requests.get(temp_url(keyed, box, "o"), timeout=10).status_code == 401


def test_temp_url_digests_key_scopes_and_expiry_forms(keyed: Swift, box: str):
    keyed("PUT", f"{box}/o", data=b"data")
    assert requests.get(temp_url(keyed, box, "o", digest=hashlib.sha256), timeout=10).ok
    path = f"{urlparse(keyed.endpoint).path}/{box}/o"
    expires = int(time.time()) + 60
    raw = hmac.new(KEY.encode(), f"GET\n{expires}\n{path}".encode(), hashlib.sha512).digest()
    b64 = "sha512:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    url = f"{keyed.endpoint}/{box}/o?temp_url_sig={b64}&temp_url_expires={expires}"
    assert requests.get(url, timeout=10).content == b"data"
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    iso_url = (
        f"{keyed.endpoint}/{box}/o?temp_url_sig={sign(path, 'GET', expires)}&temp_url_expires={iso}"
    )
    assert requests.get(iso_url, timeout=10).ok
    # Signed without the /object mount, as a client that sees Swift at /v1 would sign it.
    bare = path.removeprefix("/object")
    bare_sig = sign(bare, "GET", expires)
    url = f"{keyed.endpoint}/{box}/o?temp_url_sig={bare_sig}&temp_url_expires={expires}"
    assert requests.get(url, timeout=10).ok
    keyed("POST", box, headers={"X-Container-Meta-Temp-URL-Key": "container-key"})
    assert requests.get(temp_url(keyed, box, "o", key="container-key"), timeout=10).ok


def test_prefix_and_ip_range_temp_urls(keyed: Swift, box: str):
    keyed("PUT", f"{box}/logs/1", data=b"one")
    keyed("PUT", f"{box}/private", data=b"no")
    base = urlparse(keyed.endpoint).path
    expires = int(time.time()) + 60
    signature = sign(f"prefix:{base}/{box}/logs/", "GET", expires)
    query = f"temp_url_sig={signature}&temp_url_expires={expires}&temp_url_prefix=logs/"
    assert requests.get(f"{keyed.endpoint}/{box}/logs/1?{query}", timeout=10).content == b"one"
    assert requests.get(f"{keyed.endpoint}/{box}/private?{query}", timeout=10).status_code == 401
    body = f"ip=127.0.0.0/8\nGET\n{expires}\n{base}/{box}/private"
    ip_sig = hmac.new(KEY.encode(), body.encode(), hashlib.sha1).hexdigest()
    ip_query = f"temp_url_sig={ip_sig}&temp_url_expires={expires}&temp_url_ip_range=127.0.0.0/8"
    assert requests.get(f"{keyed.endpoint}/{box}/private?{ip_query}", timeout=10).content == b"no"
    other = ip_query.replace("127.0.0.0/8", "10.0.0.0/8")
    assert requests.get(f"{keyed.endpoint}/{box}/private?{other}", timeout=10).status_code == 401


def test_sdk_generated_temp_url_works(conn, keyed: Swift, box: str):
    keyed("PUT", f"{box}/o", data=b"via sdk")
    path = f"{urlparse(keyed.endpoint).path}/{box}/o"
    signed = conn.object_store.generate_temp_url(path, 30, "GET", temp_url_key=KEY)
    parsed = urlparse(keyed.endpoint)
    assert requests.get(f"{parsed.scheme}://{parsed.netloc}{signed}", timeout=10).content == (
        b"via sdk"
    )
