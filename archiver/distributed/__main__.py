import sys

from archiver.distributed.commands import main

sys.exit(main())
