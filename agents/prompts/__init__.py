"""Every default prompt text of ideaforge, and nothing else.

- `roles`: the role system prompts (Generator, Skeptic, Judge); `config/agents.yaml` may override them.
- `requests`: the state-built request of each turn, the fallback question and the re-ask.
- `strategies`: what each novelty strategy (mix, question, restrict) adds to a Generator request.
- `judging`: the Judge's pairwise questions (same idea? which is better?).
- `markers`: the structural markers a fake model may read back (counts, idea ids, titles, the two
  ideas of a pairwise question), with their parsers.
"""
