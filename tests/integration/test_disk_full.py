#!/usr/bin/python3
"""Disk full: the state directory lives on a small tmpfs, filled up with a
filler file while a carrier pushes. SQLITE_FULL must give the carrier
retryable rejections (STORE_FAILED, retryable=true), corridord keeps running
and answering PING and STATS, and once the filler is deleted the carrier's
resends are acknowledged by themselves; every update is then stored exactly
once, field by field, and every file passes PRAGMA integrity_check.
Needs to mount a tmpfs (root); skipped (77) where that is not permitted."""
import errno
import os
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

TMPFS_SIZE = '24m'
FULL_TIMEOUT_S = 30


def fill(path):
    """Writes path until the file system is full; returns the bytes written."""
    chunk = b'\0' * (256 * 1024)
    n = 0
    with open(path, 'wb', buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # the last few bytes too
        while True:
            try:
                if not f.write(b'\0' * 512):
                    break
                n += 512
            except OSError:
                break
    return n


class DiskFull(unittest.TestCase):

    def setUp(self):
        self.top = tempfile.mkdtemp(prefix='corridor-diskfull-')
        self.addCleanup(shutil.rmtree, self.top, True)
        self.mnt = os.path.join(self.top, 'mnt')
        os.mkdir(self.mnt)
        p = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0700' % TMPFS_SIZE,
                            'corridor-test', self.mnt], capture_output=True, text=True)
        if p.returncode != 0:
            raise unittest.SkipTest('cannot mount a tmpfs: %s' % (p.stderr.strip() or
                                                                 'mount exited %d' % p.returncode))
        # cleanups run last-in first-out: the daemon is killed before the unmount
        self.addCleanup(subprocess.run, ['umount', '-l', self.mnt], capture_output=True)
        self.filler = os.path.join(self.mnt, 'filler')

    def test_store_failed_then_resume(self):
        pb = ic.load_pb2()
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        d = harness.new_daemon(self, state_dir=os.path.join(self.mnt, 'state'))
        os.mkdir(d.state_dir)
        d.start()
        t0 = int(time.time() * 1000)
        c = dur.ResendingCarrier(lambda: d.carrier_port, 'KTZE', 'diskfull', legs,
                                 window=300, pace=2000, retry_pause_s=0.1, give_up_s=30)
        self.addCleanup(c.halt.set)
        c.start()
        deadline = time.monotonic() + 10
        while c.mark < 500:
            self.assertLess(time.monotonic(), deadline, 'no progress:\n' + d.log_tail())
            time.sleep(0.05)
        filled = fill(self.filler)
        print('filler %d bytes; free now %d' % (filled, shutil.disk_usage(self.mnt).free))

        # the carrier meets STORE_FAILED, retryable; the daemon keeps answering
        deadline = time.monotonic() + FULL_TIMEOUT_S
        while not any(r[1] == 'STORE_FAILED' for r in c.rejections):
            self.assertLess(time.monotonic(), deadline, 'no STORE_FAILED with the disk full '
                            '(mark %d, sent %d):\n%s' % (c.snapshot() + (d.log_tail(),)))
            self.assertTrue(d.alive(), d.log_tail())
            time.sleep(0.05)
        mark_full = c.mark
        with d.query() as q:
            for _ in range(25):
                self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
                stats = q.request('STATS *')
                self.assertTrue(stats.ok, 'STATS with the disk full: %r\n%s' % (
                    stats, d.log_tail()))
                time.sleep(0.1)
        self.assertTrue(d.alive(), d.log_tail())
        failed = [r for r in c.rejections if r[1] == 'STORE_FAILED']
        self.assertTrue(all(r[2] for r in failed), 'STORE_FAILED not retryable')
        print('%d STORE_FAILED rejections; mark %d with the disk full; e.g. %s' % (
            len(failed), mark_full, failed[0][3]))

        # space returns: the resends go through without any help
        os.unlink(self.filler)
        c.stop_new.set()
        dur.wait_all([c], 30, 'after space returned')
        self.assertEqual(dur.carrier_problems([c]), [])
        self.assertGreater(c.mark, mark_full)
        self.assertEqual(c.mark, c.max_sent)
        self.assertEqual((c.disconnects, c.error_codes), (0, []))
        log = d.log_text()
        print('\n'.join([line for line in log.splitlines() if 'full' in line][:3]))
        self.assertEqual(d.stop(), 0, d.log_tail())
        events = dur.stored_events(d.state_dir)
        self.assertEqual(sorted(events), [('KTZE', s) for s in range(1, c.max_sent + 1)])
        self.assertEqual(dur.row_mismatches(pb, events, {('KTZE', s): u for s, u in
                                                         c.updates.items()}, t0), [])
        self.assertEqual(dur.integrity_problems(d.state_dir), [])


if __name__ == '__main__':
    harness.main()
