"""One worker process of the many-workers test: the whole graph, with the ledger, the spend guard and the
checkpoints all in one shared PostgreSQL.

    TIERWISE_LEDGER_URL=postgresql://... TIERWISE_REGISTRY=caps.toml python graph_worker.py BASE_URL NAME COUNT

Prints "ready" once its graph and checkpointer are up, starts when a line arrives on stdin, then prints one
JSON line per request: thread id, request id, failure kind (or null), and its calls' ids and costs.
"""

from __future__ import annotations

import json
import os
import sys

from tierwise import Context, build_graph
from tierwise.graph import postgres_checkpointer


def main(base_url: str, name: str, count: int) -> None:
    with postgres_checkpointer(os.environ["TIERWISE_LEDGER_URL"]) as saver:
        graph = build_graph(checkpointer=saver)
        context = Context(base_url=base_url)
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(count):
            thread = f"{name}-{i}"
            out = graph.invoke({"input": f"Ticket {thread}: my card was charged twice.", "request_id": thread},
                               context=context, config={"configurable": {"thread_id": thread}})
            failure = out.get("failure")
            print(json.dumps({"thread": thread, "request_id": out["request_id"], "answer": out.get("answer"),
                              "failure": failure["kind"] if failure else None,
                              "calls": [[c.call_id, c.cost_usd] for c in out["calls"]]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
