"""A flow that does nothing: what Prefect's own start-up and shutdown cost a process (bench.following).

It takes a parameter, as every real flow does: Prefect serializes parameters with FastAPI's
encoder, whose import (about 0.1 s) a flow without parameters never pays.
"""

from prefect import flow


@flow(name="bare")
def bare(poll_interval: float = 1.0) -> None:
    """Nothing: the process's CPU is importing Prefect, creating the flow run and closing it."""


if __name__ == "__main__":
    bare()
