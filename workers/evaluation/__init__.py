"""`ideaforge eval` (issue 14): the pipeline against a single-prompt baseline on the same endpoint.

`topics.py` reads the topic file, `arms.py` runs the baseline and the blind pairwise judge (model
calls), `evaluate.py` runs each topic and computes the metrics (pure, in `agents.quality`),
`report.py` writes the Markdown, JSON and HTML reports. The front doors reach it through
`workers.api.Ideaforge` (`load_eval_topics`, `evaluate`, `write_eval_report`).
"""
