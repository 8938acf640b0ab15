"""The pure core of the live box-score pipeline: no network, no files, no clocks.

Everything here is a function of its arguments so that the rules of the sport (what a shot
is, what a box score holds, what the season tables look like after a game) are tested without
any server. The live loop is one pure step too (:mod:`boxscore.step`: observations in, effects
out, over the rules of :mod:`boxscore.live`). Tasks in ``tasks/`` do the I/O; flows in ``flows/``
carry out what the core decides.
"""
