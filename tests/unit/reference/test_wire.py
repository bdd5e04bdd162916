"""Microversion negotiation, error bodies and route templates, without a server."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from pytest_interop.reference.compute import exceptions as nova
from pytest_interop.reference.compute.responses import negotiate
from pytest_interop.reference.core.routing import route
from pytest_interop.reference.identity import exceptions as keystone
from pytest_interop.reference.image import exceptions as glance
from pytest_interop.reference.network import exceptions as neutron


def _request(headers: dict[str, str]) -> Request:
    return Request(EnvironBuilder(path="/compute/v2.1/servers", headers=headers).get_environ())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (2, 1)),
        ({"OpenStack-API-Version": "compute 2.79"}, (2, 79)),
        ({"OpenStack-API-Version": "volume 3.1, compute 2.60"}, (2, 60)),
        ({"X-OpenStack-Nova-API-Version": "2.47"}, (2, 47)),
        ({"OpenStack-API-Version": "compute latest"}, (2, 79)),
    ],
)
def test_negotiate(headers, expected):
    assert negotiate(_request(headers)) == expected


def test_out_of_range_microversion_is_406():
    with pytest.raises(nova.NovaError) as raised:
        negotiate(_request({"OpenStack-API-Version": "compute 2.80"}))
    assert raised.value.status == 406
    with pytest.raises(nova.NovaError) as malformed:
        negotiate(_request({"OpenStack-API-Version": "compute two"}))
    assert malformed.value.status == 400


def test_each_service_formats_errors_its_own_way():
    assert json.loads(nova.not_found("gone").response().get_data()) == {
        "itemNotFound": {"code": 404, "message": "gone"}
    }
    assert json.loads(nova.conflict("locked").response().get_data())["conflictingRequest"]
    body = json.loads(neutron.not_found("Network", "n1").response().get_data())
    assert body["NeutronError"]["type"] == "NetworkNotFound"
    error = json.loads(keystone.unauthorized().response().get_data())["error"]
    assert error["code"] == 401 and error["title"] == "Unauthorized"
    text = glance.not_found("i1").response()
    assert text.status_code == 404 and b"No image found with ID i1" in text.get_data()


def test_route_template_names_path_parameters():
    item = route(
        "compute",
        "/compute/v2.1/servers/<server_id>/metadata/<key>",
        "GET",
        lambda ctx, request: None,
    )
    assert item.template == "/compute/v2.1/servers/{server_id}/metadata/{key}"
