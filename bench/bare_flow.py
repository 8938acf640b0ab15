"""A flow that does nothing: what Prefect's own start-up and shutdown cost a process (bench.following)."""

from prefect import flow


@flow(name="bare")
def bare() -> None:
    """Nothing: the process's CPU is importing Prefect, creating the flow run and closing it."""


if __name__ == "__main__":
    bare()
