"""`python -m fasterapi run module:app ...`"""

import sys

from fasterapi.cli import main

sys.exit(main())
