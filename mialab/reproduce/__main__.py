"""`python -m mialab.reproduce`: see mialab.reproduce.main."""

import sys

from . import main

sys.exit(main())
