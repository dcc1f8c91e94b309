"""`python -m search.generate OUT_DIR -n N`: write a generated corpus and its truth.jsonl."""

from .letters import main

raise SystemExit(main())
