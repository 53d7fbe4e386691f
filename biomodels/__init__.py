"""biomodels: drug discovery and computational biology toolkit.

Data flows one way: io -> featurize -> data -> models -> train -> screen/generate -> report.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
