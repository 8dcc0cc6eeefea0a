"""Route: choose a job's starting tier (rules, then an optional learned router)."""
