"""Heat: the reference cloud's orchestration service (API v1 and a HOT engine)."""
