"""The store: it alone reads and writes ideaforge's Redis keys (every key is listed in `keys.py`).

- `runs.RunStore`: run state (compare-and-set commits), the run index, transcripts, shortlists.
- `ledger.IdeaLedger`: the cross-run idea ledger per namespace (titles, summaries, vectors, verdicts).
- `keys.Keys`: the key table.
"""
