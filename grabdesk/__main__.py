import sys

from grabdesk.cli import main

sys.exit(main())
