"""The guideline model: one shape for every DefCore schema version and for ours.

Loaders (``pytest_interop.guideline.loading``) turn any published form into these
objects; everything else in the tool reads only these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["required", "advisory", "deprecated", "removed"]
STATUSES: tuple[Status, ...] = ("required", "advisory", "deprecated", "removed")
# Statuses whose tests must pass for a verdict (DefCore: deprecated is still required).
COUNTED_STATUSES: frozenset[str] = frozenset({"required", "deprecated"})
# Statuses whose tests run at all.
RUN_STATUSES: frozenset[str] = frozenset({"required", "deprecated", "advisory"})


@dataclass(frozen=True)
class Flag:
    """Why a listed test does not count against a cloud."""

    reason: str
    action: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class TestRef:
    """A test a capability lists: a pytest node id (ours) or a Tempest test name (DefCore)."""

    __test__ = False  # not a pytest test class

    name: str
    idempotent_id: str | None = None
    flagged: Flag | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capability:
    name: str
    description: str = ""
    achievements: tuple[str, ...] = ()
    admin: bool = False
    project: str | None = None
    required_since: str | None = None
    tests: tuple[TestRef, ...] = ()

    def counted_tests(self) -> tuple[TestRef, ...]:
        return tuple(t for t in self.tests if t.flagged is None)


@dataclass(frozen=True)
class Component:
    """A component names its capabilities by status."""

    name: str
    capabilities: dict[str, tuple[str, ...]] = field(default_factory=dict)  # status -> names

    def status_of(self, capability: str) -> str | None:
        for status, names in self.capabilities.items():
            if capability in names:
                return status
        return None


@dataclass(frozen=True)
class Platform:
    name: str
    description: str = ""
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guideline:
    id: str
    schema: str
    status: str = "draft"
    source: str = ""
    path: str | None = None
    sha256: str | None = None
    approved: str | None = None  # target_approval
    replaces: str | None = None
    releases: tuple[str, ...] = ()
    cutoff_score: int | None = None
    criteria: dict[str, dict] = field(default_factory=dict)  # id -> {name, weight, description}
    platforms: dict[str, Platform] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    capabilities: dict[str, Capability] = field(default_factory=dict)
    # Add-on guidelines extend a platform guideline's components.
    is_add_on: bool = False
    required_platform_components: tuple[str, ...] = ()
    test_repositories: dict[str, dict] = field(default_factory=dict)
    # Schema 2.0 add-on guidelines: add-on name -> its components (``platforms`` stays empty).
    add_ons: dict[str, Platform] = field(default_factory=dict)
    # Our extension marker (metadata ``interop_schema``, e.g. "pytest-interop/1"); None for
    # DefCore's own files, whose tests are Tempest test names rather than pytest node ids.
    interop_schema: str | None = None
    reference: str = ""

    @property
    def broadest_platform(self) -> str | None:
        """The platform with the most components (ties: first listed); the default target."""
        best: Platform | None = None
        for platform in self.platforms.values():
            if best is None or len(platform.components) > len(best.components):
                best = platform
        return best.name if best else None

    def targets(self) -> list[str]:
        """Every name ``--target`` accepts: platforms, add-ons, then components."""
        return [*self.platforms, *self.add_ons, *self.components]

    def capability_statuses(self, target: str | None = None) -> dict[str, str]:
        """Capability name -> status for a platform or component (default: broadest platform).

        A capability named by several components of a platform takes the strongest status.
        Raises KeyError for an unknown target.
        """
        if target is None:
            target = self.broadest_platform
        if target is None:  # an add-on: all its components
            component_names = list(self.components)
        elif target in self.platforms:
            component_names = list(self.platforms[target].components)
        elif target in self.add_ons:
            component_names = list(self.add_ons[target].components)
        elif target in self.components:
            component_names = [target]
        else:
            raise KeyError(target)
        rank = {s: i for i, s in enumerate(("required", "deprecated", "advisory", "removed"))}
        result: dict[str, str] = {}
        for cname in component_names:
            component = self.components.get(cname)
            if component is None:
                continue
            for status, names in component.capabilities.items():
                for name in names:
                    old = result.get(name)
                    if old is None or rank[status] < rank[old]:
                        result[name] = status
        return result

    def iter_tests(self) -> Iterator[tuple[Capability, TestRef]]:
        for capability in self.capabilities.values():
            for test in capability.tests:
                yield capability, test
