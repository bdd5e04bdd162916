"""Plumbing shared by the reference cloud's services: errors, wire helpers, the WSGI app."""
