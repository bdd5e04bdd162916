from pathlib import Path

import pytest

from pytest_interop.guideline.loading import load_guideline
from pytest_interop.guideline.score import score_capability, score_guideline

from .helpers import FIXTURES

ROOT = Path(__file__).resolve().parents[3]


def test_weighted_score_against_cutoff():
    g = load_guideline(FIXTURES / "ours.json")
    create = score_capability(g, "compute-servers-create")
    assert (create.score, create.cutoff, create.meets_cutoff) == (80, 74, True)
    assert create.missed == ("doc",)
    reboot = score_capability(g, "compute-servers-reboot")
    assert (reboot.score, reboot.meets_cutoff, reboot.status) == (40, False, "advisory")


def test_2017_01_published_scores():
    g = load_guideline("2017.01", [ROOT / "pytest_interop" / "guidelines"])
    assert score_capability(g, "compute-servers-create").score == 100
    assert (
        score_capability(g, "compute-images-create").score == 72
    )  # required below cutoff, as published
    assert score_capability(g, "compute-instance-actions-get").score == 75


def test_unknown_achievement_and_no_cutoff():
    g = load_guideline(FIXTURES / "defcore-1.2.json")
    scores = {s.name: s for s in score_guideline(g)}
    servers = scores["compute-servers"]
    assert servers.score == 14 and servers.meets_cutoff is None
    assert set(servers.unknown) == {"clients", "future", "complete", "stable"}


def test_unknown_capability_raises_key_error():
    with pytest.raises(KeyError):
        score_capability(load_guideline(FIXTURES / "ours.json"), "nope")
