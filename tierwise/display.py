"""Human and JSON views of a graph result and of the registry (rich tables)."""

from __future__ import annotations

from datetime import date
from typing import Any


def result_json(result: dict[str, Any]) -> dict[str, Any]:
    triage = result.get("triage")
    total, all_pro = result.get("total_cost_usd", 0.0), result.get("all_pro_cost_usd", 0.0)
    return {
        "answer": result.get("answer", ""),
        "route": result.get("route"),
        "steps": result.get("steps", []),
        "triage": triage.model_dump() if triage is not None else None,
        "draft": result.get("draft"),
        "score": result.get("score"),
        "escalated": result.get("escalated", False),
        "escalation_reason": result.get("escalation_reason"),
        "failure": result.get("failure"),
        "calls": [c.model_dump(mode="json") for c in result.get("calls", [])],
        "total_cost_usd": total,
        "direct_pro_cost_usd": result.get("direct_pro_cost_usd"),
        "net_saving_usd": result.get("net_saving_usd"),
        "direct_pro_basis": result.get("direct_pro_basis"),
        "all_pro_cost_usd": all_pro,
        "saving": _saving(total, all_pro),
        **{key: _jsonable(result[key]) for key in PIPELINE_FIELDS if key in result},
    }


# What the prebuilt content, research and agentic graphs add to the common fields.
PIPELINE_FIELDS = ("cost_by_stage", "plan", "queries", "citations", "unknown_citations", "intent", "tool_rounds")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _saving(total: float, all_pro: float) -> float | None:
    return round(1 - total / all_pro, 4) if all_pro > 0 else None


def _console():
    import sys

    from rich.console import Console

    # Piped output would be cut at 80 columns and elide model ids; tables need ~110.
    return Console() if sys.stdout.isatty() else Console(width=120)


def render_result(result: dict[str, Any]) -> None:
    from rich.markup import escape as esc  # model ids, task types, reasons: text from outside, never markup
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text  # plain text: an answer's "[doc-id]" citations are not rich markup

    console = _console()
    failure = result.get("failure")
    if failure:
        title = esc(f"no answer: {failure['stage']} failed ({failure['kind']})")
        console.print(Panel(Text(failure["message"]), title=title, expand=False, border_style="red"))
    else:
        console.print(Panel(Text(result.get("answer") or "(no answer)"), title="answer", expand=False))
    for citation in result.get("citations", []):
        console.print(Text(f"[{citation.id}] {citation.title} — {citation.source}"))
    if result.get("unknown_citations"):
        console.print(Text(f"removed citations of unknown documents: {', '.join(result['unknown_citations'])}"))
    steps = " → ".join(result.get("steps", []))
    triage = result.get("triage")
    how = ""
    if triage is not None:
        how = f" (intent {triage.intent}, complexity {triage.complexity}, confidence {triage.confidence}"
        how += ", by the pre-router" if triage.source == "learned" else ""
        how += ", triage unusable: cheap path)" if not triage.usable else ")"
    console.print(f"[bold]route[/bold] {esc(str(result.get('route')))}{esc(how)}: {esc(steps)}")
    if result.get("escalated"):
        console.print(f"[bold]escalated[/bold] to the top tier ({esc(result.get('escalation_reason') or 'see calls')})")

    table = Table(title="model calls", title_justify="left")
    for column in ("stage", "model", "tier", "in", "out", "thinking", "cost USD", "latency ms", "outcome"):
        table.add_column(column, justify="right" if column in ("in", "out", "thinking", "cost USD",
                                                                "latency ms") else "left")
    for c in result.get("calls", []):
        table.add_row(esc(c.stage), esc(c.model), esc(c.tier), str(c.input_tokens), str(c.output_tokens),
                      str(c.thinking_tokens), f"{c.cost_usd:.6f}", f"{c.latency_ms:.0f}", esc(c.outcome))
    console.print(table)
    total, all_pro = result.get("total_cost_usd", 0.0), result.get("all_pro_cost_usd", 0.0)
    direct, net = result.get("direct_pro_cost_usd"), result.get("net_saving_usd")
    if direct is not None and net is not None:
        share = f" ({net / direct:.0%})" if direct > 0 else ""
        console.print(f"[bold]net saving[/bold] ${net:.6f}{share}: total ${total:.6f} vs one direct Pro call "
                      f"${direct:.6f}")
        if result.get("direct_pro_basis"):
            console.print(Text(f"  direct Pro call {result['direct_pro_basis']}"))
    saving = _saving(total, all_pro)
    tail = f"  (saving {saving:.0%})" if saving is not None else ""
    console.print(f"[bold]same calls all on Pro[/bold] ${all_pro:.6f}{tail}")
    by_stage = result.get("cost_by_stage")
    if by_stage:
        parts = [f"{stage} ({'/'.join(row['tiers'])}) ${row['cost_usd']:.6f}" for stage, row in by_stage.items()]
        console.print(Text("by stage: " + " · ".join(parts)))


def tier_price_note(price: Any, tier: str, factors: Any) -> str:
    """How a price entry bills `tier`: its own listed rates (with their source) or the registry's multiplier."""
    rates = price.service_tier_rates.get(tier)
    if rates is not None:
        return f"{rates.input:g}/{rates.output:g} listed"
    return f"×{factors.get(tier, 1.0):g}"


def render_sent(registry: Any, console: Any) -> None:
    """What each stage really sends to each model of its chain (tiers/capabilities.py: Gemini 3's default
    temperature, fixed sampling, thinking levels the model has, its max output)."""
    from rich.markup import escape
    from rich.table import Table

    from tierwise.calls.chain import candidates

    table = Table(title="what each stage sends to each model of its chain (- : not sent, the model's default)",
                  title_justify="left")
    for column in ("stage", "model", "temperature", "thinking", "max out", "why it differs from the stage"):
        table.add_column(column)
    for name in registry.data.stages:
        for route in candidates(registry, registry.stage(name)):
            sent = registry.settings_for(route)
            thinking = sent.thinking_level or (str(sent.thinking_budget) if sent.thinking_budget is not None else "-")
            temperature = "-" if sent.temperature is None else f"{sent.temperature:g}"
            table.add_row(escape(name), escape(route.model_id), temperature, thinking, str(sent.max_output_tokens),
                          escape("; ".join(sent.adjustments) or ""))
    console.print(table)


def render_registry(registry: Any) -> None:
    from rich.markup import escape  # model ids, stage names and sources come from user files
    from rich.table import Table

    from tierwise.tiers import list_prices
    from tierwise.tiers.pricing import today as utc_today

    data, today, console = registry.data, utc_today(), _console()
    listed = list_prices.version()
    console.print(escape(f"registry: {registry.origin}"))
    console.print(f"prices: genai-prices {listed} (bundled data, never fetched) + registry overrides" if listed
                  else "prices: genai-prices is not installed: registry prices only")
    tiers = Table(title=f"tiers (prices in force {today}, USD per 1M tokens)", title_justify="left")
    for column in ("tier", "model", "input", "output", "cached", "context", "shutdown", "price source"):
        tiers.add_column(column)
    for name in data.tier_order:
        model_id = data.tiers[name].model
        spec = data.models[model_id]
        p = spec.price_on(today)
        tiers.add_row(escape(name), escape(model_id), f"{p.input:g}", f"{p.output:g}",
                      f"{(p.cached_input if p.cached_input is not None else p.input):g}", f"{spec.context_window:,}",
                      str(spec.shutdown or "-"), escape(p.source))
    console.print(tiers)
    prices = Table(title="price entries (each in force from its date until the next)", title_justify="left")
    for column in ("model", "from", "in", "out", "cached", "audio", "long context", "search/1k",
                   "flex · priority", "source"):
        prices.add_column(column, no_wrap=column in ("model", "from", "source"))
    for model_id, spec in data.models.items():
        for p in sorted(spec.prices, key=lambda entry: entry.effective):
            long = (f">{p.long_context_threshold // 1000}k: {p.long_input:g}/{p.long_output:g}"
                    if p.long_context_threshold is not None else "-")
            tiers_cell = " · ".join(tier_price_note(p, tier, data.service_tiers) for tier in ("flex", "priority")
                                    if tier in spec.service_tiers) or "-"
            prices.add_row(escape(model_id), "listed" if p.effective == date.min else str(p.effective),
                           f"{p.input:g}", f"{p.output:g}", "-" if p.cached_input is None else f"{p.cached_input:g}",
                           "-" if p.input_audio is None else f"{p.input_audio:g}", long,
                           "-" if p.search_per_1k is None else f"{p.search_per_1k:g}", escape(tiers_cell),
                           escape(p.source))
    console.print(prices)
    catalogue = Table(title="catalogue (what each model accepts; * default level)", title_justify="left")
    for column in ("model", "tier", "family", "thinking levels", "budget", "sampling", "service tiers", "max out"):
        catalogue.add_column(column, no_wrap=column == "model")
    for model_id, spec in data.models.items():
        levels = " ".join(f"{lvl}*" if lvl == spec.default_thinking_level else lvl for lvl in spec.levels_low_to_high)
        sampling = "fixed" if not spec.sampling else (
            f"keep ≥{spec.default_temperature:g}" if spec.default_temperature is not None else "yes")
        catalogue.add_row(escape(model_id), escape(spec.tier or "-"), escape(spec.family or "-"), levels or "-",
                          "yes" if spec.thinking_budget else "no", sampling, ",".join(spec.service_tiers),
                          f"{spec.max_output_tokens:,}")
    console.print(catalogue)
    if data.aliases:
        console.print(escape("aliases (genai-prices): " + ", ".join(f"{a} → {m}" for a, m in data.aliases.items())))
    others = [m for m in list_prices.google_models() if m not in data.models and m.startswith("gemini-")]
    if others:
        console.print(escape("also priced by genai-prices, in no family (speech, live, image, embedding or retired "
                             "models; no stage runs on them): " + ", ".join(others)))
    factors = "  ".join(f"{name} ×{factor:g}" for name, factor in data.service_tiers.items())
    console.print(escape(f"service tiers: ×N is the registry's multiplier on the standard price ({factors}), used "
                         "where the price entry lists no rates of its own for the tier (\"listed\")"))
    stages = Table(title="stages", title_justify="left")
    for column in ("stage", "tier", "temperature", "max out", "thinking", "critical", "fallbacks"):
        stages.add_column(column)
    for name, s in data.stages.items():
        thinking = s.thinking_level or (str(s.thinking_budget) if s.thinking_budget is not None else "-")
        temperature = f"{s.temperature:g}" + (f" (below Gemini 3's default: {s.low_temperature})"
                                              if s.low_temperature else "")
        stages.add_row(escape(name), escape(s.tier), escape(temperature), str(s.max_output_tokens), thinking,
                       "yes" if s.critical else "", escape(", ".join(s.fallbacks) or "-"))
    console.print(stages)
    render_sent(registry, console)
    moved = [(task, stage, spec.tier) for task, t in data.task_types.items() for stage, spec in t.stages.items()]
    if moved:
        table = Table(title="task types on their own tier", title_justify="left")
        for column in ("task type", "stage", "tier"):
            table.add_column(column)
        for row in moved:
            table.add_row(*(escape(cell) for cell in row))
        console.print(table)
