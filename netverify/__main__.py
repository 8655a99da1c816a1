from netverify.cli import main

raise SystemExit(main())
