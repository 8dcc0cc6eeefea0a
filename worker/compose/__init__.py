"""Subtask decomposition: a composite job becomes outline → sections → assembly.

``plan`` decides (purely) whether a job is composite and what its parts
are; ``ledger`` writes the children (jobs with ``parent_id``, in the parent
batch's child batch) and settles the parent; ``task`` moves the parent from
stage to stage. Each child is an ordinary job: routed on its own to the
cheapest adequate tier and escalated by the cascade like any other, and the
sections run in parallel, one message each. The join is in Postgres: every
child that ends sends ``ladder.compose.advance`` for its parent, which locks
the parent row and moves on only when all of the stage's children are final,
so a lost message or a broker restart never strands a parent (the sweeper
re-sends it). The parent's cost is the sum of its children's.
"""
