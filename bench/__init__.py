"""The benchmarks (``make bench``), figures in ``bench/results/README.md``.

Each runs against what a user would otherwise pick, or an earlier commit, in the same run.
"""
