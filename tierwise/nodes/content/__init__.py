"""Nodes of the content graph: draft (lite) → format (flash, JSON) → finalize (pro, critical)."""
