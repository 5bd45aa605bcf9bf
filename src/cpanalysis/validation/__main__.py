"""``python -m cpanalysis.validation [ROOT]``: make the validator's environment."""

import sys

from cpanalysis.validation.environment import main

sys.exit(main())
