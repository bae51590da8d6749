"""`python -m bot` does what the `sportello` command does."""

import sys

from bot.cli import main

sys.exit(main())
