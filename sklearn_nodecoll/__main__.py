"""Run the command line with ``python -m sklearn_nodecoll``."""

import sys

from .cli import main

sys.exit(main())
