#!/usr/bin/env python3
"""run.py - run msgeventd's integration tests.

    MSGEVENTD=build/msgeventd python3 tests/integration/run.py [-v] [PATTERN...]

Discovers tests/integration/test_*.py and runs them with unittest; a
PATTERN keeps only the tests whose id (test_file.Class.method) contains
it.  The last line is "N passed, N failed" (", N skipped" when some
were); the exit status is non-zero when a test failed or errored.
"""

import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


class CountingResult(unittest.TextTestResult):
    """Counts successes itself: a failing setUpClass is one error but
    runs none of its tests, so testsRun minus the rest is no count."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def main(argv):
    # Killed (a CI timeout, ^C): unwind, so that harness's atexit handler
    # stops every Dovecot, rsyslogd and msgeventd and removes temp dirs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    verbose = "-v" in argv
    patterns = [a for a in argv if not a.startswith("-")]
    sys.path.insert(0, HERE)
    binary = os.environ.get("MSGEVENTD")
    if binary:
        os.environ["MSGEVENTD"] = os.path.abspath(binary)
    else:
        import harness
        os.environ["MSGEVENTD"] = harness.msgeventd_binary()
    if not os.access(os.environ["MSGEVENTD"], os.X_OK):
        print("run.py: no msgeventd binary at %s (set MSGEVENTD)"
              % os.environ["MSGEVENTD"], file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    loader = unittest.TestLoader()
    found = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(flatten(found))
    if patterns:
        tests = [t for t in tests if any(p in t.id() for p in patterns)]
    suite = unittest.TestSuite(tests)

    start = time.monotonic()
    runner = unittest.TextTestRunner(stream=sys.stdout,
                                     verbosity=2 if verbose else 1,
                                     resultclass=CountingResult)
    result = runner.run(suite)
    elapsed = time.monotonic() - start

    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.passed
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stdout.write("integration: %.1f s\n" % elapsed)
    sys.stdout.write(line + "\n")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
