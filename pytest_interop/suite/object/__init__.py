"""Must-pass tests of the object-storage (objectstore-*) capabilities."""
