"""Keystone v3: version discovery, password tokens, the catalog, projects and users."""
