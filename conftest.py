"""Root conftest: the project's own tests use pytester to run the plugin in a sandbox."""

pytest_plugins = ["pytester"]
