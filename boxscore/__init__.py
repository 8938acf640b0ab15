"""The pure core of the live box-score pipeline: no network, no files, no clocks.

Everything here is a function of its arguments so that the rules of the sport (what a shot
is, what a box score holds, what the season tables look like after a game) are tested without
any server. Tasks in ``tasks/`` do the I/O; flows in ``flows/`` orchestrate.
"""
