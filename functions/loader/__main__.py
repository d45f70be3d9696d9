"""`python -m functions.loader`: see functions/loader/cli.py."""

import sys

from functions.loader.cli import main

sys.exit(main())
