#!/usr/bin/python3
"""The harness's own tests (unittest, standard library), for tests/run.sh:
runs every test_*.py in this folder and ends with cmocka's summary lines
("[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)"), which run.sh counts
into its closing "tests: N passed, N failed". Exit 1 when any test failed.

    load/harness/tests/run_tests.py [-v] [test_name_pattern]
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def main(argv):
    pattern = next((a for a in argv if not a.startswith("-")), "test_*.py")
    suite = unittest.defaultTestLoader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    good = result.testsRun - bad - len(result.skipped)
    print("[==========] %d test(s) run." % result.testsRun)
    print("[  PASSED  ] %d test(s)." % good)
    if bad:
        print("[  FAILED  ] %d test(s), listed below:" % bad)
        for test, _ in result.failures + result.errors:
            print("[  FAILED  ] %s" % test.id())
    sys.stdout.flush()
    return 1 if bad or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
