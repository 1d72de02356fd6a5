#!/usr/bin/python3
"""The installed systemd units as systemd itself judges them: `systemd-analyze
verify` passes on the service and its two sockets (ExecStart pointed at the
built corridord, as verify wants the binary to exist), and `systemd-analyze
security --offline=true` rates the service's exposure at most 1.5."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ANALYZE = shutil.which('systemd-analyze')
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(harness.CORRIDORD)))
UNITS = ('corridord.service', 'corridord-carriers.socket', 'corridord-operators.socket')
MAX_EXPOSURE = 1.5


@unittest.skipIf(ANALYZE is None, 'systemd-analyze is not installed')
class UnitSecurity(unittest.TestCase):

    def setUp(self):
        harness.require_binary(harness.CORRIDORD, 'corridord')
        self.dir = tempfile.mkdtemp(prefix='corridor-units-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        for u in UNITS:
            src = os.path.join(BUILD_DIR, 'systemd', u)
            if not os.path.exists(src):
                self.skipTest('unit not configured: %s' % src)
            with open(src, encoding='utf-8') as f:
                text = f.read()
            text = re.sub(r'^ExecStart=\S+', 'ExecStart=' + harness.CORRIDORD, text,
                          flags=re.M)
            with open(os.path.join(self.dir, u), 'w', encoding='utf-8') as f:
                f.write(text)

    def analyze(self, *args):
        return subprocess.run([ANALYZE] + list(args), cwd=self.dir, capture_output=True,
                              text=True, timeout=60)

    def test_verify(self):
        r = self.analyze('verify', *['./' + u for u in UNITS])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), '', 'verify warned')

    def test_exposure(self):
        r = self.analyze('security', '--offline=true', './corridord.service')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r'Overall exposure level for corridord\.service: ([0-9.]+)', r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        score = float(m.group(1))
        print('exposure %.1f' % score)
        self.assertLessEqual(score, MAX_EXPOSURE, r.stdout)

    def test_sandbox_keeps_what_corridord_needs(self):
        with open(os.path.join(self.dir, 'corridord.service'), encoding='utf-8') as f:
            unit = f.read()
        for line in ('Type=notify', 'WatchdogSec=30s', 'StateDirectory=corridor',
                     'ConfigurationDirectory=corridor', 'LimitNOFILE=65536',
                     # meson's configure_file must not eat the '@' of the groups
                     'SystemCallFilter=@system-service',
                     'SystemCallFilter=~@privileged @resources',
                     'Sockets=corridord-carriers.socket corridord-operators.socket'):
            self.assertIn(line + '\n', unit)
        # the notify socket is AF_UNIX; carriers and operators come over TCP
        self.assertIn('RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n', unit)
        for name, fdname in (('corridord-carriers.socket', 'carriers'),
                             ('corridord-operators.socket', 'operators')):
            with open(os.path.join(self.dir, name), encoding='utf-8') as f:
                self.assertIn('FileDescriptorName=%s\n' % fdname, f.read())


if __name__ == '__main__':
    harness.main()
