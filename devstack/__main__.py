"""``python -m devstack up|worker|down|score|season``: the local stack in the background (:mod:`devstack.stack`)."""

import sys

from devstack.stack import main

sys.exit(main(sys.argv[1:]))
