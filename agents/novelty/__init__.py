"""Novelty engine: embeddings, dedup in code against run/deny-list/ledger/prior art, and Elo ranking.

Redis-free; the ledger store lives in `workers/store/ledger.py`.
"""
