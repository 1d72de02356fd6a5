#!/usr/bin/python3
"""BACKUP <name> (corridorctl backup): an online copy of the catalog and every
leg file while carriers keep pushing. Each copied file passes
integrity_check; everything acknowledged before the backup began is in it,
nothing in it is stored twice and every row equals what was sent; a daemon
started on the copy serves it, and its Welcome mark covers what was
acknowledged before the backup. Bad names and a second backup of the same
name are refused."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

CARRIERS = ('KTZE', 'ADYC')


class Backup(harness.DaemonTestCase):

    def test_backup_under_load(self):
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        pushers = [dur.ResendingCarrier(lambda: self.daemon.carrier_port, code, 'backup', legs,
                                        window=400, batch=(20, 80), pace=3000)
                   for code in CARRIERS]
        for p in pushers:
            self.addCleanup(p.halt.set)
            p.start()
        time.sleep(1.0)
        before = {p.code: p.snapshot()[0] for p in pushers}
        self.assertTrue(all(m > 0 for m in before.values()), before)
        r = subprocess.run([harness.CORRIDORCTL, '--port', str(self.daemon.query_port), '--csv',
                            'backup', 'under-load'], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [line.split(',') for line in r.stdout.strip().splitlines()[1:]]
        self.assertEqual(len(rows), 1 + len(legs), r.stdout)
        time.sleep(0.5)
        # ingest went on during and after the backup
        after = {p.code: p.snapshot()[0] for p in pushers}
        for p in pushers:
            p.stop_new.set()
        for p in pushers:
            p.join(60)
            self.assertIsNone(p.failure)
            self.assertEqual(p.violations, [])
        self.assertTrue(any(after[c] > before[c] for c in CARRIERS), (before, after))

        copy = os.path.join(self.daemon.state_dir, 'backups', 'under-load')
        self.assertEqual(dur.integrity_problems(copy), [])
        events = dur.stored_events(copy, set(CARRIERS))
        dup = [k for k, v in events.items() if len(v) > 1]
        self.assertEqual(dup, [], 'stored twice in the backup')
        seqs = dur.stored_seqs(events)
        for code in CARRIERS:
            have = set(seqs.get(code, []))
            missing = [s for s in range(1, before[code] + 1) if s not in have]
            self.assertEqual(missing, [], '%s: acknowledged before the backup, not in it' % code)
        pb = ic.load_pb2()
        updates = {(p.code, seq): u for p in pushers for seq, u in p.updates.items()}
        self.assertEqual(dur.row_mismatches(pb, events, updates), [])

        # the copy is a working state directory
        restored = harness.new_daemon(self, state_dir=copy).start()
        c = ic.Carrier(restored.carrier_port, 'KTZE')
        self.addCleanup(c.close)
        self.assertGreaterEqual(c.hello().acked_seq, before['KTZE'])
        c.close()
        with restored.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
        self.assertEqual(restored.stop(), 0)

    def test_bad_names_and_repeats(self):
        with self.daemon.query() as q:
            for bad in ('.hidden', '../escape', 'a/b', 'x' * 65):
                self.assertEqual(q.request('BACKUP %s' % bad).code, 'BAD_ARGUMENT', bad)
            self.assertEqual(len(q.ok('BACKUP once').rows), 13)
            a = q.request('BACKUP once')
            self.assertEqual(a.code, 'BAD_ARGUMENT')
            self.assertIn('exists', a.message)
            self.assertEqual(q.request('BACKUP').code, 'BAD_ARGUMENT')


if __name__ == '__main__':
    harness.main()
