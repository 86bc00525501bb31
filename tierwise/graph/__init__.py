"""Wiring only: nodes, edges, routing, compile."""
