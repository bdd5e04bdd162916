"""The node tests log into the same machines the machine tests use."""

from tests.functional.machines.conftest import host, make_machine, user_key

__all__ = ["host", "make_machine", "user_key"]
