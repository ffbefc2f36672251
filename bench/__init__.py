"""Performance, cardinality and fault benchmarks for rag-api (`make bench`; not part of tests).

`python -m bench` runs them all; `python -m bench NAME [--quick]` runs one. docs/performance.md
records the figures, the machine and how to reproduce them.
"""
