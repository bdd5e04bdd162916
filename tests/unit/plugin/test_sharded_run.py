"""`--interop-shard I/N` through pytester: the shards' outcomes are the whole run's, once each."""

from __future__ import annotations

from .conftest import load_report

CLOUDS = ("--cloud=memory:ok", "--cloud=memory:nolock")


def outcomes(report: dict) -> dict[str, str]:
    return {f"{o['nodeid']}": o["outcome"] for o in report["outcomes"]}


def test_the_shards_together_run_what_one_run_does_and_each_test_once(synth):
    synth.runpytest("--guideline=2099.01", *CLOUDS)
    whole = outcomes(load_report(synth))
    parts, plans = [], set()
    for index in (1, 2, 3):
        result = synth.runpytest("--guideline=2099.01", *CLOUDS, f"--interop-shard={index}/3")
        report = load_report(synth)
        shard = report["selection"]["shard"]
        assert (shard["index"], shard["count"]) == (index, 3)
        plans.add(shard["plan"])
        result.stdout.fnmatch_lines([f"shard {index}/3 (plan *"])
        parts.append(outcomes(report))
    assert len(plans) == 1  # every shard computed the same plan
    assert sum(len(p) for p in parts) == len(whole)  # nothing twice
    assert {k: v for p in parts for k, v in p.items()} == whole  # nothing lost, same outcomes


def test_a_bad_shard_option_stops_before_collection(synth):
    result = synth.runpytest("--guideline=2099.01", *CLOUDS, "--interop-shard=4/3")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--interop-shard 4/3: I must be between 1 and N*"])
    assert "collected" not in result.stdout.str()
