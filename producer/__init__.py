"""Submit: parse a batch file, write it to the ledger, enqueue its jobs.

``parse`` turns lines into ``JobSpec`` values or ``LineError`` values (never
raising for a bad line); ``submit`` writes the batch and jobs in bulk and
enqueues one ``ladder.route`` task per job; ``progress`` watches a batch.
"""
