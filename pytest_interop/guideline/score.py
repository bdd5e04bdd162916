"""Weighted achievement scores: how each capability fares against the guideline's cutoff."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_interop.guideline.model import Guideline


@dataclass(frozen=True)
class CapabilityScore:
    name: str
    status: str | None  # strongest status over the guideline's components; None if unlisted
    score: int
    cutoff: int | None
    achievements: tuple[str, ...]
    missed: tuple[str, ...]  # criteria the capability does not achieve
    unknown: tuple[str, ...]  # achievements naming no criterion of the guideline

    @property
    def meets_cutoff(self) -> bool | None:
        return None if self.cutoff is None else self.score >= self.cutoff

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "score": self.score,
            "cutoff": self.cutoff,
            "meets_cutoff": self.meets_cutoff,
            "achievements": list(self.achievements),
            "missed": list(self.missed),
            "unknown": list(self.unknown),
        }


def all_statuses(guideline: Guideline) -> dict[str, str]:
    """Capability -> strongest status across every component of the guideline."""
    rank = {s: i for i, s in enumerate(("required", "deprecated", "advisory", "removed"))}
    result: dict[str, str] = {}
    for component in guideline.components.values():
        for status, names in component.capabilities.items():
            for name in names:
                old = result.get(name)
                if old is None or rank[status] < rank[old]:
                    result[name] = status
    return result


def score_capability(guideline: Guideline, name: str) -> CapabilityScore:
    """Raises KeyError for a capability the guideline does not define."""
    capability = guideline.capabilities[name]
    criteria = guideline.criteria
    achieved = tuple(dict.fromkeys(capability.achievements))
    score = sum(int(criteria[a].get("weight", 0)) for a in achieved if a in criteria)
    return CapabilityScore(
        name=name,
        status=all_statuses(guideline).get(name),
        score=score,
        cutoff=guideline.cutoff_score,
        achievements=achieved,
        missed=tuple(c for c in criteria if c not in achieved),
        unknown=tuple(a for a in achieved if a not in criteria),
    )


def score_guideline(guideline: Guideline, capability: str | None = None) -> list[CapabilityScore]:
    """Scores of every capability (or one), in the guideline's order."""
    names = [capability] if capability is not None else list(guideline.capabilities)
    return [score_capability(guideline, name) for name in names]
