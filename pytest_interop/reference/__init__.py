"""The embedded reference cloud: OpenStack APIs over HTTP on loopback, SSH-reachable servers,
variance profiles and fault injection.

    cloud = ReferenceCloud("floating-ip", boot_delay=0.1, seed=3)
    cloud.start()
    conn = openstack.connect(**cloud.cloud_config())
    ...
    cloud.stop()

Layout (moto's split, one package per service): ``models`` hold state and rules, ``responses``
turn requests into model calls and results into the wire format, ``urls`` route, ``exceptions``
carry each API's error body. ``core`` holds the WSGI app (routing, counting, faults, tokens);
``state`` ties the models together behind one lock; ``compute/machines_glue`` is the only
place that drives the SSH machines of ``reference.machines``.

Served paths: ``/identity`` (Keystone v3), ``/compute/v2.1`` (Nova, microversions 2.1-2.79),
``/image`` (Glance v2), ``/network`` (Neutron v2.0), and ``GET /admin/counters`` (admin token
only; the same data as ``ReferenceCloud.counters()``). Injected latency, 5xx and 429 apply to
service calls, not to version documents, token requests or the counters.
"""

from pytest_interop.reference.cloud import ReferenceCloud

__all__ = ["ReferenceCloud"]
