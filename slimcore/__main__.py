"""`python -m slimcore ...` is the `slimcore` command (torchrun needs the module form)."""
import sys

from slimcore.cli.main import main

sys.exit(main())
