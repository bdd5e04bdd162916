"""Clouds: resolving a cloud by name, and one adapter per provider behind one interface."""
