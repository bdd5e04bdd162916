"""Shard plans: deterministic, complete, disjoint, balanced; units kept whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from pytest_interop.errors import ConfigurationError
from pytest_interop.sharding import Shard, make_plan, parse_shard, split, unit_of


@dataclass
class FakeDef:
    argname: str
    scope: str
    argnames: tuple[str, ...] = ()


@dataclass
class FakeItem:
    nodeid: str
    fixtures: dict[str, FakeDef] = field(default_factory=dict)

    @property
    def callspec(self):
        return SimpleNamespace(params={"cloud": self.nodeid.rsplit("[", 1)[1].rstrip("]")})

    @property
    def fixturenames(self):
        return list(self.fixtures)

    @property
    def _fixtureinfo(self):
        return SimpleNamespace(name2fixturedefs={k: [v] for k, v in self.fixtures.items()})


CLOUD = FakeDef("cloud", "session")
SERVER = FakeDef("server", "function", ("cloud", "keypair"))
SHARED = FakeDef("shared_server", "session", ("cloud", "request"))
SHARED_KEY = FakeDef("shared_keypair", "session", ("shared_server",))
MODULE_SERVER = FakeDef("module_server", "module", ("cloud",))


def items_for(clouds=("a", "b", "c", "d")) -> list[FakeItem]:
    items = []
    for cloud in clouds:
        for n in range(6):
            items.append(
                FakeItem(f"s/test_boot.py::test_{n}[{cloud}]", {"cloud": CLOUD, "server": SERVER})
            )
        for n in range(5):
            items.append(FakeItem(f"s/test_api.py::test_{n}[{cloud}]", {"cloud": CLOUD}))
        for n in range(4):
            items.append(
                FakeItem(
                    f"s/test_shared.py::test_{n}[{cloud}]",
                    {"cloud": CLOUD, "shared_keypair": SHARED_KEY, "shared_server": SHARED},
                )
            )
        for n in range(3):
            items.append(
                FakeItem(
                    f"s/test_mod.py::test_{n}[{cloud}]",
                    {"cloud": CLOUD, "module_server": MODULE_SERVER},
                )
            )
    return items


@pytest.mark.parametrize("text", ["", "3", "0/4", "5/4", "1/0", "a/b", "1/-2"])
def test_a_bad_shard_is_refused_naming_the_option(text):
    with pytest.raises(ConfigurationError, match="--interop-shard"):
        parse_shard(text)


def test_shards_are_complete_disjoint_and_the_same_every_time():
    items = items_for()
    for count in (1, 2, 3, 4, 7):
        parts = [split(items, Shard(i, count))[0] for i in range(1, count + 1)]
        ids = [item.nodeid for part in parts for item in part]
        assert sorted(ids) == sorted(i.nodeid for i in items)  # every test once
        again = [split(list(reversed(items)), Shard(i, count))[0] for i in range(1, count + 1)]
        assert [sorted(i.nodeid for i in p) for p in again] == [
            sorted(i.nodeid for i in p) for p in parts
        ]  # collection order does not change the plan
        assert len({split(items, Shard(1, count))[2].digest for _ in range(3)}) == 1


def test_tests_sharing_a_cloud_resource_or_a_module_fixture_stay_together():
    items = items_for()
    plan = make_plan(items, 4)
    assert unit_of(items[11]) == ("a", "cloud-wide resources")  # shared_keypair -> shared_server
    assert unit_of(items[15]) == ("a", "s/test_mod.py")
    for cloud in "abcd":
        shared = {
            plan.assignment[unit_of(i)]
            for i in items
            if i.nodeid.endswith(f"[{cloud}]") and "shared" in i.nodeid
        }
        module = {
            plan.assignment[unit_of(i)]
            for i in items
            if i.nodeid.endswith(f"[{cloud}]") and "test_mod" in i.nodeid
        }
        assert len(shared) == 1 and len(module) == 1


def test_the_plan_is_balanced_by_the_cost_model():
    plan = make_plan(items_for(), 4)
    assert plan.balance <= 1.15, plan.costs
    durations = {i.nodeid: 1.0 + (sum(map(ord, i.nodeid)) % 7) for i in items_for()}
    assert make_plan(items_for(), 4, durations).balance <= 1.15
