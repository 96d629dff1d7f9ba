"""``python -m crlqas_kit.exercises grade NOTEBOOK...`` (see :mod:`crlqas_kit.exercises.grade`)."""

import sys

from .grade import main

sys.exit(main())
