"""Must-pass tests: image."""
