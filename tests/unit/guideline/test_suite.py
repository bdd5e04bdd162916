from pytest_interop.guideline.suite import scan_suite

from .helpers import write_suite


def test_scan_finds_functions_methods_and_ids(tmp_path):
    index = scan_suite(write_suite(tmp_path))
    assert {n: t.idempotent_id for n, t in index.tests.items()} == {
        "tests/interop/compute/test_servers.py::test_server_create_is_active_and_reachable": (
            "0f2b1c3e-8d4a-4a57-9c2e-3b1d5e7f9a01"
        ),
        "tests/interop/compute/test_servers.py::test_reboot_changes_boot_id": (
            "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
        ),
        "tests/interop/compute/test_servers.py::TestServerInvalid::test_bad_flavor_is_refused": (
            "6a1e2d3c-4b5f-4e78-8a9b-0c1d2e3f4a5b"
        ),
        "tests/interop/identity/test_tokens.py::test_token_create": (
            "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
        ),
    }
    assert index.problems == []
    test = index.tests["tests/interop/identity/test_tokens.py::test_token_create"]
    assert (test.path, test.line) == ("tests/interop/identity/test_tokens.py", 5)


def test_scan_does_not_import(tmp_path):
    write_suite(
        tmp_path,
        {
            "tests/interop/test_boom.py": """
        import pytest
        raise SystemExit("imported!")

        @pytest.mark.idempotent_id("11111111-1111-4111-8111-111111111111")
        def test_x():
            pass
    """
        },
    )
    index = scan_suite(tmp_path)
    assert "tests/interop/test_boom.py::test_x" in index.tests


def test_scan_reports_problems(tmp_path):
    write_suite(
        tmp_path,
        {
            "tests/interop/test_odd.py": """
            import pytest
            ID = "22222222-2222-4222-8222-222222222222"

            @pytest.mark.idempotent_id(ID)
            def test_variable_id():
                pass

            class Helper:
                @pytest.mark.idempotent_id("33333333-3333-4333-8333-333333333333")
                def test_in_uncollected_class(self):
                    pass

            @pytest.mark.idempotent_id("44444444-4444-4444-8444-444444444444")
            def check_not_a_test():
                pass
        """,
            "tests/interop/test_broken.py": "def test_x(:\n    pass\n",
        },
    )
    index = scan_suite(tmp_path)
    problems = "\n".join(index.problems)
    assert "test_odd.py:5: idempotent_id needs one string literal" in problems
    assert (
        "Helper::test_in_uncollected_class carries an idempotent_id but pytest does not collect"
        in problems
    )
    assert "check_not_a_test carries an idempotent_id" in problems
    assert "test_broken.py:1: cannot parse: SyntaxError" in problems
    assert "tests/interop/test_odd.py::Helper::test_in_uncollected_class" not in index.tests
    assert index.tests["tests/interop/test_odd.py::test_variable_id"].idempotent_id is None


def test_by_idempotent_id_groups_duplicates(tmp_path):
    write_suite(
        tmp_path,
        {
            "tests/interop/test_dup.py": """
        import pytest

        @pytest.mark.idempotent_id("3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a")
        def test_copy():
            pass
    """
        },
    )
    groups = scan_suite(tmp_path).by_idempotent_id()
    assert len(groups["3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"]) == 2
