"""The morning digest: every run finished in a window, its shortlist, and what is new.

build.py (collect runs and compare with earlier shortlists) · markdown.py (render) ·
autowrite.py (write the night's file when a scheduled run ends).
"""
