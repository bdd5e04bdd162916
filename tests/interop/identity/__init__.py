"""Must-pass tests: identity."""
