import sys

from zhibiao.cli import main

sys.exit(main())
