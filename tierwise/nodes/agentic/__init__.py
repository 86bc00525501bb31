"""Nodes of the agentic graph: route (lite) → a tool loop on Flash (step ⇄ tools), or one-shot analysis on Pro."""
