"""A flow that does nothing: what Prefect's own start-up and shutdown cost a process.

    python -m bench.bare_flow [--linger S]

bench.following runs it to its end; bench.startup times its "Beginning flow run" line, the floor
under the live flow's first poll, and keeps it alive (``--linger``) until it has read that line.
It takes a parameter, as every real flow does: Prefect serializes parameters with FastAPI's
encoder, whose import a flow without parameters never pays.
"""

import argparse
import time

from prefect import flow


@flow(name="bare")
def bare(poll_interval: float = 1.0, linger: float = 0.0) -> None:
    """Nothing but waiting ``linger`` seconds: the process's CPU is Prefect's own."""
    time.sleep(linger)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--linger", type=float, default=0.0, help="seconds the flow's body waits before it ends")
    bare(linger=parser.parse_args().linger)
