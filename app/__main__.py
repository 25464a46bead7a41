"""`python -m app serve ...`, the same as the `backprop-live` console script."""

from app.cli import main

raise SystemExit(main())
