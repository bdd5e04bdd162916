"""pytest-interop: behavioural interoperability guidelines for clouds, run with pytest."""

__version__ = "0.1.0"
