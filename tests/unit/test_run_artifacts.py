"""The UI's artifacts are made in a thread of their own: the loop never waits on the Prefect API.

The thread's rules, with views whose making the test controls: the newest view of a kind
replaces one not yet made, a failure is said once, and closing makes what is left.
"""

from __future__ import annotations

import threading

from tasks.artifacts import RunArtifacts


def test_a_view_not_yet_made_is_replaced_by_a_newer_one_and_the_loop_never_waits() -> None:
    said: list[str] = []
    artifacts = RunArtifacts(said.append, str)
    started, api_answers, made = threading.Event(), threading.Event(), []
    artifacts._offer("boxscore", lambda: (started.set(), api_answers.wait(10), made.append("event 1")))
    assert started.wait(10)  # the thread is making event 1, and the API hangs
    artifacts._offer("boxscore", lambda: made.append("event 2"))  # while the API hangs: the loop goes on
    artifacts._offer("boxscore", lambda: made.append("event 3"))
    artifacts._offer("games", lambda: made.append("games"))
    api_answers.set()
    artifacts.close()
    assert made == ["event 1", "event 3", "games"] and said == []


def test_a_failing_api_is_said_once_and_later_views_are_still_tried() -> None:
    said: list[str] = []
    artifacts = RunArtifacts(said.append, lambda text: text.replace("hunter2", "***"))
    made: list[int] = []

    def refused(n: int) -> None:
        made.append(n)
        raise ConnectionError("http://user:hunter2@prefect/api does not answer")

    for n in range(3):
        done = threading.Event()
        artifacts._offer("games", lambda n=n, done=done: (done.set(), refused(n)))
        done.wait(10)
    artifacts.close()
    assert made == [0, 1, 2]
    assert said == ["the Prefect UI's artifacts are not updated (http://user:***@prefect/api does not answer)"]
