"""The hostile-input (fuzz) harness of mlglass: test and benchmark tooling, not part of the installed package.

``tests/test_robustness.py`` imports it as ``fuzz.harness`` (pytest puts ``tests/`` on the path);
``benchmarks/robustness.py`` adds ``tests/`` to ``sys.path`` itself.
"""
