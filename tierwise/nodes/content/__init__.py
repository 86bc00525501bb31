"""Nodes of the content graph: draft (lite) → plan (flash, JSON) → finalize (pro, critical)."""
