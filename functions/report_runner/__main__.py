import sys

from functions.report_runner.cli import main

sys.exit(main())
