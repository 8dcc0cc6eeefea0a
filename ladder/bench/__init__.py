"""The benchmarks behind ``ladder bench``: pipeline, submit, local, latency.

Each one measures Ladder side by side with the thing it orchestrates (raw
Celery, plain llama-cpp-python) in the same run, on private services, and
repeats itself at several multiples of its job count so that a cost growing
faster than the work shows. ``benchmarks/README.md`` has the numbers.
"""
