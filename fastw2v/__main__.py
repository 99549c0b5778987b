import sys

from fastw2v.cli import main

sys.exit(main())
