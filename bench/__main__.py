import sys

if sys.argv[1:2] == ["qido"]:
    from bench.qido import main as qido_main

    sys.exit(qido_main(sys.argv[2:]))

from bench.run import main

sys.exit(main())
