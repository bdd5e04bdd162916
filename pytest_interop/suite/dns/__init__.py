"""dns: zones and record sets, and what their name servers answer."""
