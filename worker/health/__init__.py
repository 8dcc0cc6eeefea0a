"""Health: a circuit breaker per tier, shared by every worker through Redis."""
