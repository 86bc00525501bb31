"""Nodes of the research graph: queries (lite) → search (a tool, no model) → claims per document (lite, in
parallel) → dedupe (no model) → synthesize (pro, critical, citations checked)."""
