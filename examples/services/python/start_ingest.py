"""Start twinflow's `ingest` workflow from a Python service, by type name and one JSON input.

twinflow's workflows are TypeScript, but a workflow type is just a name and its input is one JSON object, so any
Temporal SDK can start one (see docs/workflows.md for every type and its input schema). Nothing of twinflow is
imported here: only the `temporalio` package (pip install temporalio).

    python start_ingest.py --collection notes --folder /home/me/notes
    python start_ingest.py --input ingest.json              # the whole input, as in docs/workflows.md
    python start_ingest.py --input - --no-wait < ingest.json

Connection settings come from the same environment variables as twinflow's own (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TWINFLOW_TASK_QUEUE), or from the flags. It prints the run's ids
on stderr and, unless --no-wait, the workflow's result as JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from typing import Any

from temporalio.client import Client, WorkflowFailureError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    p = argparse.ArgumentParser(description="Start twinflow's ingest workflow")
    p.add_argument("--address", default=env.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    p.add_argument("--namespace", default=env.get("TEMPORAL_NAMESPACE", "default"))
    p.add_argument("--task-queue", default=env.get("TWINFLOW_TASK_QUEUE", "twinflow"))
    p.add_argument("--workflow-id", help="default: ingest-<collection>-<random>")
    p.add_argument("--input", help="a JSON file with the whole ingest input ('-': stdin)")
    p.add_argument("--collection", default="notes")
    p.add_argument("--folder", action="append", default=[], help="a folder on the worker's machine (repeatable)")
    p.add_argument("--url", action="append", default=[], help="a web page to crawl (repeatable)")
    p.add_argument("--no-wait", action="store_true", help="start and print the ids, do not wait for the result")
    return p.parse_args(argv)


def build_input(args: argparse.Namespace) -> dict[str, Any]:
    if args.input:
        text = sys.stdin.read() if args.input == "-" else open(args.input, encoding="utf-8").read()
        return json.loads(text)
    sources: list[dict[str, Any]] = [
        {"type": "folder", "id": f"folder-{i + 1}" if len(args.folder) > 1 else "notes", "path": path}
        for i, path in enumerate(args.folder)
    ]
    if args.url:
        sources.append({"type": "web", "id": "web", "urls": args.url})
    if not sources:
        raise SystemExit("start_ingest.py: give --input, or at least one --folder or --url")
    return {"collection": args.collection, "sources": sources}


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ingest_input = build_input(args)
    api_key = os.environ.get("TEMPORAL_API_KEY") or None
    tls = api_key is not None or os.environ.get("TEMPORAL_TLS", "").lower() in ("1", "true", "yes")
    client = await Client.connect(args.address, namespace=args.namespace, api_key=api_key, tls=tls)

    workflow_id = args.workflow_id or f"ingest-{ingest_input.get('collection', 'twinflow')}-{uuid.uuid4().hex[:8]}"
    # By name, with one JSON argument: the default data converter sends it as json/plain, which is what the
    # TypeScript workers read.
    handle = await client.start_workflow("ingest", ingest_input, id=workflow_id, task_queue=args.task_queue)
    print(json.dumps({"workflowId": handle.id, "runId": handle.result_run_id}), file=sys.stderr, flush=True)
    if args.no_wait:
        return 0
    try:
        result = await handle.result()
    except WorkflowFailureError as err:
        # e.g. an invalid input: the workflow fails at once with the field's name in the message.
        print(f"ingest failed: {err.cause}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    # A short-lived client process can abort at interpreter shutdown ("Fatal Python error: PyGILState_Release")
    # while the SDK's Rust threads are torn down (temporalio/sdk-python#300): everything is done and flushed by
    # now, so skip the teardown. A long-lived service keeps its Client and never gets here.
    os._exit(code)
