import sys

from inference_arithmetic.cli import main

sys.exit(main())
