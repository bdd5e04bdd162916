"""Headers and statuses every Swift client relies on: transaction ids, HEAD 204s, ETags."""

from __future__ import annotations

import re

import requests


def _account(cloud, conn) -> tuple[str, dict[str, str]]:
    token = conn.session.get_token()
    return f"{cloud.base_url}/object/v1/AUTH_{conn.current_project_id}", {"X-Auth-Token": token}


def test_every_answer_has_a_transaction_id_and_a_content_type(cloud, conn):
    account, token = _account(cloud, conn)
    answers = [
        requests.head(account, headers=token, timeout=5),
        requests.put(f"{account}/hdrs", headers=token, timeout=5),
        requests.head(f"{account}/hdrs", headers=token, timeout=5),
        requests.get(f"{account}/hdrs/missing", headers=token, timeout=5),
        requests.delete(f"{account}/hdrs", headers=token, timeout=5),
    ]
    assert [a.status_code for a in answers] == [204, 201, 204, 404, 204]
    for answer in answers:
        trans = answer.headers["X-Trans-Id"]
        assert re.fullmatch(r"tx[0-9a-f]{21}-[0-9a-f]{10}", trans)
        assert answer.headers["X-Openstack-Request-Id"] == trans
        assert answer.headers["Content-Type"]
        # RFC 7230: no Content-Length on a 204
        assert ("Content-Length" in answer.headers) == (answer.status_code != 204)
    assert "X-Account-Container-Count" in answers[0].headers


def test_conditional_get_by_etag(cloud, conn):
    account, token = _account(cloud, conn)
    requests.put(f"{account}/cond", headers=token, timeout=5)
    stored = requests.put(f"{account}/cond/o", data=b"abc", headers=token, timeout=5)
    etag = stored.headers["ETag"]
    url = f"{account}/cond/o"
    assert requests.get(url, headers={**token, "If-None-Match": etag}, timeout=5).status_code == 304
    assert requests.get(url, headers={**token, "If-None-Match": "x"}, timeout=5).content == b"abc"
    assert requests.get(url, headers={**token, "If-Match": "x"}, timeout=5).status_code == 412
    assert requests.get(url, headers={**token, "If-Match": etag}, timeout=5).status_code == 200
    requests.delete(url, headers=token, timeout=5)
    requests.delete(f"{account}/cond", headers=token, timeout=5)


def test_object_expires_at_its_delete_at(cloud, conn):
    import time

    account, token = _account(cloud, conn)
    requests.put(f"{account}/exp", headers=token, timeout=5)
    url = f"{account}/exp/o"
    stored = requests.put(url, data=b"x", headers={**token, "X-Delete-After": "2"}, timeout=5)
    assert stored.status_code == 201
    head = requests.head(url, headers=token, timeout=5)
    assert int(head.headers["X-Delete-At"]) - time.time() <= 2.5
    bad = requests.post(url, headers={**token, "X-Delete-At": "12"}, timeout=5)
    assert bad.status_code == 400  # in the past
    time.sleep(2.2)
    assert requests.get(url, headers=token, timeout=5).status_code == 404
    requests.delete(f"{account}/exp", headers=token, timeout=5)


def test_post_makes_a_dlo_manifest_with_a_quoted_etag(cloud, conn):
    account, token = _account(cloud, conn)
    requests.put(f"{account}/dlo", headers=token, timeout=5)
    for index, part in enumerate((b"ab", b"cd")):
        requests.put(f"{account}/dlo/big/{index}", data=part, headers=token, timeout=5)
    requests.put(f"{account}/dlo/big", data=b"", headers=token, timeout=5)
    posted = requests.post(
        f"{account}/dlo/big", headers={**token, "X-Object-Manifest": "dlo/big/"}, timeout=5
    )
    assert posted.status_code == 202
    head = requests.head(f"{account}/dlo/big", headers=token, timeout=5)
    assert head.headers["X-Object-Manifest"] == "dlo/big/"
    assert head.headers["ETag"].startswith('"') and head.headers["ETag"].endswith('"')
    assert requests.get(f"{account}/dlo/big", headers=token, timeout=5).content == b"abcd"
    for name in ("big/0", "big/1", "big"):
        requests.delete(f"{account}/dlo/{name}", headers=token, timeout=5)
    requests.delete(f"{account}/dlo", headers=token, timeout=5)
