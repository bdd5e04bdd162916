"""Must-pass tests: network."""
