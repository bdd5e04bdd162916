"""Neutron's default quotas, advertised by ``GET /v2.0/quotas/<project>`` and enforced.

Real Neutron refuses the 11th security group of a project with 409 OverQuota; a reference
cloud that only advertised the limit let a suite pass here that would fail on a real cloud.
An embedded run raises them (``ReferenceCloud(quotas=...)``), as it raises Nova's, so that
many xdist workers fit.
"""

from __future__ import annotations

from typing import Any

from pytest_interop.reference.network import exceptions

DEFAULT_QUOTAS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "subnetpool": -1,
    "rbac_policy": 10,
}
# quota name -> the store collection it counts
COUNTED = {
    "network": "networks",
    "subnet": "subnets",
    "router": "routers",
    "floatingip": "floatingips",
    "security_group": "security-groups",
    "security_group_rule": "security-group-rules",
}


def check_quota(
    quotas: dict[str, int], store: dict[str, dict[str, Any]], project_id: str, name: str
) -> None:
    """409 OverQuota if ``project_id`` already holds its quota of ``name`` (caller locks)."""
    limit = quotas.get(name, -1)
    if limit < 0:
        return
    held = sum(1 for item in store[COUNTED[name]].values() if item["project_id"] == project_id)
    if held >= limit:
        raise exceptions.conflict("OverQuota", f"Quota exceeded for resources: ['{name}'].")
