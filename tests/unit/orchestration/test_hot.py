"""The reference Heat's template reading and intrinsic functions, without a cloud."""

from __future__ import annotations

import pytest

from pytest_interop.reference.orchestration import exceptions, functions, template


def scope(version: str = "2018-08-31", **params) -> functions.Scope:
    values = {"name": "web", "sizes": [1, 2], **params}
    attrs = {("server", "networks"): {"private": ["10.0.0.5", "10.0.0.6"]}}
    return functions.Scope(
        version,
        values,
        pseudo={"OS::stack_name": "demo"},
        resource_ref=lambda name: f"id-of-{name}",
        resource_attr=lambda name, attr, path: functions._walk(attrs[(name, attr)], path, attr),
        known_resources=frozenset({"server"}),
    )


def test_versions_are_read_as_strings_and_aliases_resolve():
    loaded = template.load("heat_template_version: 2018-08-31\n")
    assert loaded["heat_template_version"] == "2018-08-31"
    assert template.canonical_version("rocky") == "2018-08-31"
    with pytest.raises(exceptions.HeatError, match="template version is invalid"):
        template.check({"heat_template_version": "1999-01-01"})


def test_functions_resolve_parameters_resources_and_attributes():
    snippet = {
        "name": {
            "str_replace": {
                "template": "$name-$name_long",
                "params": {"$name": {"get_param": "name"}, "$name_long": "LONG"},
            }
        },
        "ref": {"get_resource": "server"},
        "ip": {"get_attr": ["server", "networks", "private", 1]},
        "joined": {"list_join": [",", ["a", "b"], {"get_param": "sizes"}]},
        "stack": {"get_param": "OS::stack_name"},
    }
    assert functions.resolve(snippet, scope()) == {
        "name": "web-LONG",  # the longer key is replaced first
        "ref": "id-of-server",
        "ip": "10.0.0.6",
        "joined": "a,b,1,2",
        "stack": "demo",
    }


def test_a_function_a_version_lacks_is_data():
    snippet = {"list_join": [",", ["a"]]}
    assert functions.resolve(snippet, scope("2013-05-23")) == snippet


def test_conditions_choose_branches():
    s = scope(env="prod")
    functions.evaluate_conditions(
        {"is_prod": {"equals": [{"get_param": "env"}, "prod"]}, "not_prod": {"not": "is_prod"}},
        s,
    )
    assert functions.resolve({"if": ["is_prod", "big", "small"]}, s) == "big"
    assert functions.resolve({"if": ["not_prod", "big", "small"]}, s) == "small"
    with pytest.raises(exceptions.HeatError, match="Invalid condition"):
        functions.condition("nowhere", s)


def test_references_are_the_dependencies():
    snippet = {"a": {"get_resource": "net"}, "b": [{"get_attr": ["port", "fixed_ips"]}]}
    assert functions.references(snippet) == {"net", "port"}


def test_parameters_are_typed_and_constrained():
    declared = {
        "parameters": {
            "count": {"type": "number", "constraints": [{"range": {"min": 1, "max": 3}}]},
            "tags": {"type": "comma_delimited_list", "default": "a, b"},
            "flag": {"type": "boolean", "default": "yes"},
        }
    }
    values = template.resolve_parameters(declared, {"count": "2"}, {})
    assert values == {"count": 2, "tags": ["a", "b"], "flag": True}
    with pytest.raises(exceptions.HeatError, match="count"):
        template.resolve_parameters(declared, {"count": 9}, {})
    with pytest.raises(exceptions.HeatError, match=r"Parameter \(count\) was not provided"):
        template.resolve_parameters(declared, {}, {})
    env = {"parameter_defaults": {"count": 1}, "parameters": {"count": 3}}
    assert template.resolve_parameters(declared, {}, env)["count"] == 3
