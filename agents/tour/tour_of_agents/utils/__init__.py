"""Shared request models and the simulated back-end calls the tour's agents use."""
