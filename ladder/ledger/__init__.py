"""The Postgres ledger: schema (``schema``), per-process engine (``db``)."""
