"""``make faults``: the product's behaviour under faults, with real processes.

Each case is a module run as its own process (``python -m bench.faults.<case> [--smoke]``) that
breaks something on purpose while work is in flight, lets the product recover by itself, then
counts, per message the case created, whether it reached Twilio once, more than once, or not at
all (``bench.faults.outcome``), and writes one result file. ``bench.faults.suite`` runs the
cases one after another and prints the table.
"""
