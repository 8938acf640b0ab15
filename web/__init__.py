"""The box-score page and its JSON API (``python -m web``).

Each page process keeps every watched game's latest box score and reads MongoDB for it at most
once per interval, for all its viewers.
"""
