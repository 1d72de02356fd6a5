#!/usr/bin/python3
"""`meson install` into a DESTDIR puts the binaries, the unit, the example
configuration, the README and the manual pages in their places; the
configuration installed for the unit passes --check-config; and
corridord.conf(5) lists every limit of `corridord --help` with its default
(the help text prints the limit table itself, so the page is checked
against the code)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = os.environ.get('CORRIDOR_BUILD_DIR', '')


class Install(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not BUILD_DIR or shutil.which('meson') is None:
            raise unittest.SkipTest('needs meson and CORRIDOR_BUILD_DIR')
        cls.dest = tempfile.mkdtemp(prefix='corridor-destdir-')
        r = subprocess.run(['meson', 'install', '-C', BUILD_DIR, '--no-rebuild', '--quiet',
                            '--destdir', cls.dest], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(cls.dest, True)
            raise AssertionError('meson install failed:\n' + r.stdout + r.stderr)
        cls.files = set()
        for root, _, names in os.walk(cls.dest):
            for n in names:
                cls.files.add(os.path.relpath(os.path.join(root, n), cls.dest))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, True)

    def find(self, suffix):
        hits = sorted(f for f in self.files if f.endswith(suffix))
        self.assertTrue(hits, '%s not installed; installed: %s' % (suffix, sorted(self.files)))
        return os.path.join(self.dest, hits[0])

    def test_tree(self):
        for suffix in ('sbin/corridord', 'bin/corridorctl', 'systemd/system/corridord.service',
                       'corridor/corridord.conf', 'doc/corridor/corridord.conf.example',
                       'doc/corridor/README.md', 'man/man8/corridord.8',
                       'man/man1/corridorctl.1', 'man/man5/corridord.conf.5',
                       'corridor/legs.tsv'):
            self.find(suffix)
        self.assertTrue(os.access(self.find('sbin/corridord'), os.X_OK))

    def test_unit_points_at_the_installed_files(self):
        unit = open(self.find('systemd/system/corridord.service')).read()
        m = re.search(r'^ExecStart=(\S+) --config (\S+)', unit, re.M)
        self.assertIsNotNone(m, unit)
        self.assertTrue(os.path.exists(self.dest + m.group(1)), m.group(1))
        self.assertTrue(os.path.exists(self.dest + m.group(2)), m.group(2))
        # system call groups (@system-service, ~@privileged) are not placeholders
        body = re.sub(r'(?<=[=~ ])@[a-z-]+(?=\s)', '', unit.split('[Install]')[0])
        self.assertNotIn('@', body, 'a placeholder was left in the unit')

    def test_installed_configuration_is_valid(self):
        r = subprocess.run([self.find('sbin/corridord'), '--config',
                            self.find('corridor/corridord.conf'), '--check-config'],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout.strip().splitlines()[-1]),
                         (0, 'configuration OK'), r.stderr)
        # the effective configuration comes first, every option of the tables
        for section, name in re.findall(r'^  \[(\w+)\] (\w+) = ', self.help_text(), re.M):
            self.assertRegex(r.stdout, r'(?m)^%s = ' % name, '[%s] %s' % (section, name))

    def help_text(self):
        return subprocess.run([harness.CORRIDORD, '--help'], capture_output=True,
                              text=True).stdout

    def test_configuration_doc_is_generated_from_the_tables(self):
        want = subprocess.run([harness.CORRIDORD, '--print-config-docs'], capture_output=True,
                              text=True, check=True).stdout
        path = os.path.join(harness.SOURCE_DIR, 'docs', 'configuration.md')
        self.assertEqual(open(path).read(), want,
                         'docs/configuration.md differs from corridord --print-config-docs: '
                         'regenerate it')
        self.assertIn('| `synchronous` |', want)
        self.assertIn('| `min_version` |', want)
        self.assertIn('| `writers` | 2 | 1..64 | restart |', want)

    def test_manual_lists_every_limit(self):
        help_text = subprocess.run([harness.CORRIDORD, '--help'], capture_output=True,
                                   text=True).stdout
        limits = re.findall(r'^  (\w+) +(\d+)  \d+\.\.\d+$', help_text, re.M)
        self.assertGreater(len(limits), 20, help_text)
        # the installed page, which the build writes from the tables (test_conf_man.py)
        with open(self.find('man/man5/corridord.conf.5')) as f:
            page = f.read()
        for name, default in limits:
            self.assertRegex(page, r'\.BR %s " = %s"' % (re.escape(name), default),
                             '%s = %s is missing from corridord.conf(5)' % (name, default))


if __name__ == '__main__':
    harness.main()
