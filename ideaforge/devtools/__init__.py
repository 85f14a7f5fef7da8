"""Tools for tests and benchmarks (a fake OpenAI-compatible model server)."""
