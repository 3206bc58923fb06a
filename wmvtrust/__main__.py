"""``python -m wmvtrust``: the command line (``wmvtrust --help``); without a command, the demo."""

import sys

from .cli import main

sys.exit(main())
