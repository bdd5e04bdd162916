"""Must-pass behavioural tests of the compute component."""
