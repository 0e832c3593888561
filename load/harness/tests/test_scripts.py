"""The harness's scripts would start: every Python file under load/harness,
load/peers and the locustfiles compiles (nothing imported, nothing run), the
shell scripts parse (bash -n), each bench row is a complete unit, and the
entry points answer --help. Replaces test_bench_scripts (bash -n on bench.sh)."""
import ast
import subprocess
import unittest
from pathlib import Path

import rows

HARNESS = Path(__file__).resolve().parent.parent
ROOT = HARNESS.parent.parent


class ScriptsTest(unittest.TestCase):
    def test_python_files_compile(self):
        files = sorted(HARNESS.rglob("*.py")) + [ROOT / "load/peers/app.py", ROOT / "load/locustfile.py"]
        self.assertGreater(len(files), 20)
        for f in files:
            with self.subTest(f=str(f.relative_to(ROOT))):
                compile(f.read_text(), str(f), "exec", ast.PyCF_ONLY_AST)

    def test_shell_scripts_parse(self):
        scripts = sorted(HARNESS.rglob("*.sh"))
        self.assertTrue(scripts)
        for f in scripts:
            with self.subTest(f=str(f.relative_to(ROOT))):
                self.assertEqual(subprocess.call(["bash", "-n", str(f)]), 0)

    def test_no_script_over_about_300_lines(self):
        for f in sorted(HARNESS.rglob("*.py")) + sorted(HARNESS.rglob("*.sh")):
            with self.subTest(f=str(f.relative_to(ROOT))):
                self.assertLessEqual(len(f.read_text().splitlines()), 320)

    def test_every_row_is_a_unit_with_a_unique_name_and_number(self):
        names = [r.NAME for r in rows.ALL]
        self.assertEqual(len(set(names)), len(names))
        self.assertEqual([r.NUMBER for r in rows.ALL], list(range(1, len(rows.ALL) + 1)))
        for r in rows.ALL:
            self.assertTrue(callable(r.run), r.NAME)
        self.assertEqual([r.NAME for r in rows.select("timer,load-vs-wrk")], ["load-vs-wrk", "timer"])
        self.assertEqual([r.NAME for r in rows.select("5 1")], ["load-vs-wrk", "timer"])
        self.assertEqual(rows.select(""), rows.ALL)
        with self.assertRaisesRegex(ValueError, "no row 'nine'"):
            rows.select("nine")

    def test_entry_points_answer_help_and_refuse_bad_usage(self):
        for entry, usage in (("compare.py", "usage: load/harness/compare.py"),
                             ("bench.py", "usage: load/harness/bench.py")):
            r = subprocess.run([str(HARNESS / entry), "--help"], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, entry)
            self.assertIn(usage, r.stdout)
        r = subprocess.run([str(HARNESS / "bench.py"), "--rows", "nine"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no row 'nine'", r.stderr)


if __name__ == "__main__":
    unittest.main()
