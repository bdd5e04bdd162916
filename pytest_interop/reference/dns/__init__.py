"""The DNS service (Designate v2), backed by a real BIND 9 name server."""
