import sys

from hounsfield.cli import main

sys.exit(main())
