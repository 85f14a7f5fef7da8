"""The brainstorm itself: roles, prompts, strategies, the turn state machine, novelty and ranking.

Nothing here imports redis or rq.
"""
