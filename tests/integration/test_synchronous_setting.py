#!/usr/bin/python3
"""The durability setting: acknowledged means committed with synchronous=FULL
unless `--synchronous normal` (or `synchronous = normal` in [daemon]) trades
that for NORMAL. PRAGMA synchronous is per connection and cannot be read from
another process, so this checks the documented option, the start-up line
(`ready ... synchronous=`) and the behaviour: with normal, acknowledged
updates survive a SIGKILL of the daemon, stored once, field by field."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

READY = re.compile(r' ready .* synchronous=(\w+)')


class SynchronousSetting(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='corridor-sync-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def started(self, *args):
        d = harness.new_daemon(self, extra_args=list(args))
        return d.start()

    def mode(self, d):
        modes = READY.findall(d.log_text())
        self.assertTrue(modes, 'no ready line:\n' + d.log_tail())
        return modes[-1]

    def config(self, **daemon):
        return harness.write_config(os.path.join(self.tmp, 'c.conf'), daemon=daemon)

    def test_default_is_full_and_documented(self):
        d = self.started()
        self.assertEqual(self.mode(d), 'full')
        self.assertEqual(d.stop(), 0)
        p = subprocess.run([harness.CORRIDORD, '--help'], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r'--synchronous MODE\s+full \(default\)')
        self.assertIn('normal', p.stdout)

    def test_normal_acknowledges_and_survives_a_crash(self):
        pb = ic.load_pb2()
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        d = self.started('--synchronous', 'normal')
        self.assertEqual(self.mode(d), 'normal')
        t0 = int(time.time() * 1000)
        c = dur.ResendingCarrier(lambda: d.carrier_port, 'KTZE', 'sync', legs, total=3000)
        self.addCleanup(c.halt.set)
        c.start()
        dur.wait_all([c], 30, 'synchronous=normal')
        self.assertEqual(dur.carrier_problems([c]), [])
        self.assertEqual(c.mark, 3000)
        d.kill()                        # a crash of the process, not of the machine
        d.start(same_ports=True)
        self.assertEqual(self.mode(d), 'normal')
        with ic.Carrier(d.carrier_port, 'KTZE') as s:
            self.assertEqual(s.hello().acked_seq, 3000)
        self.assertEqual(d.stop(), 0, d.log_tail())
        events = dur.stored_events(d.state_dir)
        self.assertEqual(dur.row_mismatches(pb, events, {('KTZE', s): u for s, u in
                                                         c.updates.items()}, t0), [])
        self.assertEqual(len(events), 3000)
        self.assertEqual(dur.integrity_problems(d.state_dir), [])

    def test_config_file_and_flag(self):
        d = self.started('--config', self.config(synchronous='normal'))
        self.assertEqual(self.mode(d), 'normal')
        self.assertEqual(d.stop(), 0)
        # the flag wins over the file
        d = self.started('--config', self.config(synchronous='normal'), '--synchronous', 'full')
        self.assertEqual(self.mode(d), 'full')
        self.assertEqual(d.stop(), 0)

    def test_bad_values_are_refused(self):
        state = os.path.join(self.tmp, 'state')
        ok = subprocess.run([harness.CORRIDORD, '--config', self.config(synchronous='normal'),
                             '--state-dir', state, '--check-config'],
                            capture_output=True, text=True, timeout=10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        for args in (['--synchronous', 'off'],
                     ['--config', self.config(synchronous='OFF')]):
            p = subprocess.run([harness.CORRIDORD, '--state-dir', state, '--check-config'] +
                               args, capture_output=True, text=True, timeout=10)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn('synchronous must be full or normal', p.stdout + p.stderr)


if __name__ == '__main__':
    harness.main()
