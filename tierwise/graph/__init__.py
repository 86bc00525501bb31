"""Wiring only: nodes, edges, conditional edges, compile."""
