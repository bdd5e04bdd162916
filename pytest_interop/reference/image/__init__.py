"""Glance v2: images, their data and properties (``os_distro``, ``os_admin_user``)."""
