"""Distant concepts without the model's help: a catalog of far-off fields and creativity operators
(`catalog.py`), and the seeded draw of field × operator pairs far from a topic (`draw.py`)."""
