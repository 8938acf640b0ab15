"""Prefect flows: the live box score, finalize and the simulator; they decide nothing themselves.

``live_boxscore`` carries out the effects of the pure step (:mod:`boxscore.step`) through the
adapters in ``tasks/``; ``finalize`` and ``gamestream`` call tasks and the core in order.
"""
