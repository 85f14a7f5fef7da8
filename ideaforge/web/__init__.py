"""The HTTP API and the live dashboard (`ideaforge web`)."""
