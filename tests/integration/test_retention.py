#!/usr/bin/python3
"""Retention (issue 5): with retention_days set, a leg's raw events older than
the limit are dropped while carriers keep pushing, and the statistics that read
the rollups (STATS, ONTIME, VOLUMES, QUALITY) answer exactly as before. Units
still in a leg keep their events; events older than the limit are refused."""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import independent_carrier as ic  # noqa: E402
import test_statistics as stats_test  # noqa: E402

H = model.HOUR_MS
RETENTION_DAYS = 3
ROLLUP_QUERIES = ['STATS *', 'ONTIME *', 'VOLUMES * day', 'VOLUMES * week', 'QUALITY',
                  'STATS %s - - W' % model.RAIL, 'JOURNEYS ALK BAK']


class Retention(stats_test.Statistics):

    test_statistics_restart_and_new_typical = None  # run by test_statistics

    def answers(self):
        out = {}
        with self.daemon.query() as q:
            for line in ROLLUP_QUERIES:
                out[line] = q.ok(line).rows
        return out

    def leg_db(self, leg):
        path = os.path.join(self.daemon.state_dir, 'legs', leg + '.db')
        return sqlite3.connect('file:%s?mode=ro' % path, uri=True)

    def old_closed_events(self, leg, cutoff):
        """Events of units whose newest event is older than cutoff and which
        are no longer in the leg: what retention must drop."""
        with self.leg_db(leg) as db:
            return db.execute(
                'SELECT count(*) FROM events e WHERE (SELECT max(event_time_ms) FROM events x'
                ' WHERE x.unit = e.unit AND x.direction = e.direction) < ?1 AND NOT EXISTS'
                ' (SELECT 1 FROM traversals t WHERE t.unit = e.unit AND t.direction ='
                ' e.direction AND t.exit_time_ms IS NULL)', (cutoff,)).fetchone()[0]

    def open_units(self, leg):
        with self.leg_db(leg) as db:
            return db.execute('SELECT unit, direction, enter_time_ms FROM traversals'
                              ' WHERE exit_time_ms IS NULL ORDER BY 1, 2').fetchall()

    def test_old_events_dropped_under_load_rollups_intact(self):
        self.push()
        self.resend_duplicates()
        before = self.answers()
        cutoff = time.time() * 1000 - RETENTION_DAYS * 24 * H
        legs = (model.RAIL, model.PORT, model.SEA)
        droppable = {leg: self.old_closed_events(leg, cutoff) for leg in legs}
        self.assertGreater(sum(droppable.values()), 0, 'the scenario must have old units')
        open_before = {leg: self.open_units(leg) for leg in legs}
        self.stop_daemon()

        harness.write_config(os.path.join(self.daemon.state_dir, 'retention.conf'),
                             limits={'retention_days': RETENTION_DAYS,
                                     'retention_check_s': 1,
                                     'retention_batch_units': 7})
        self.daemon.extra_args += ['-c', os.path.join(self.daemon.state_dir,
                                                      'retention.conf')]
        self.daemon.start(same_ports=True)
        # carriers push recent updates while the passes run
        c = ic.Carrier(self.daemon.carrier_port, 'ADYC')
        self.addCleanup(c.close)
        w = c.hello()
        now = int(time.time() * 1000)
        fresh = []
        for i in range(400):
            box = model.container('ADYU', 200000 + i)
            fresh.append(ic.make_update(
                carrier='ADYC', seq=w.acked_seq + 1 + i, message_id='fresh-%d' % i,
                event_class='EQUIPMENT', classifier='ACT', event_code='GTIN',
                event_time_ms=now - (i + 1) * 60000, node='ALAT', leg='AZ-PORT-ALT',
                direction='W', container=box, iso_type='22G1', gross_kg=20000))
        deadline = time.monotonic() + 30
        for k in range(0, len(fresh), 50):
            c.send(fresh[k:k + 50])
            time.sleep(0.05)
        c.wait_acked(w.acked_seq + len(fresh))
        self.assertEqual(c.rejections, {})
        while time.monotonic() < deadline and any(
                self.old_closed_events(leg, cutoff) for leg in legs):
            time.sleep(0.2)
        for leg in legs:
            self.assertEqual(self.old_closed_events(leg, cutoff), 0, leg)
            # units still in the leg keep their events and traversals
            self.assertEqual(self.open_units(leg), open_before[leg], leg)
        self.assertIn('retention leg=%s units=' % model.RAIL, self.daemon.log_text())

        after = self.answers()
        for line in ROLLUP_QUERIES:
            if line == 'QUALITY':
                # the fresh updates are the only change
                want = {r[0]: r for r in before[line]}
                got = {r[0]: r for r in after[line]}
                self.assertEqual(int(got['ADYC'][1]), len(fresh))
                del got['ADYC']
                self.assertEqual(got, want)
            elif line.startswith('JOURNEYS'):
                # journeys pair raw traversals: only those within retention remain
                self.assertLessEqual(int(after[line][0][3]), int(before[line][0][3]))
            elif line.startswith('VOLUMES'):
                # the fresh updates entered AZ-PORT-ALT today; the rest is as it was
                self.assertEqual([r for r in after[line] if r[0] != 'AZ-PORT-ALT'],
                                 [r for r in before[line] if r[0] != 'AZ-PORT-ALT'], line)
                self.assertEqual(sum(int(r[3]) for r in after[line] if r[0] == 'AZ-PORT-ALT'),
                                 len(fresh))
            else:
                self.assertEqual(after[line], before[line], line)

        # an event older than the retention is refused now
        old = model.container('ADYU', 299999)
        c.send([ic.make_update(
            carrier='ADYC', seq=w.acked_seq + len(fresh) + 1, message_id='too-old',
            event_class='EQUIPMENT', classifier='ACT', event_code='GTIN',
            event_time_ms=now - (RETENTION_DAYS + 1) * 24 * H, node='ALAT', leg='AZ-PORT-ALT',
            direction='W', container=old)])
        c.wait_acked(w.acked_seq + len(fresh) + 1)
        r = c.rejections[w.acked_seq + len(fresh) + 1]
        self.assertEqual(c.pb.RejectReason.Name(r.reason), 'TIME_TOO_OLD')
        self.assertIn('retention_days', r.message)
        self.assert_alive()


if __name__ == '__main__':
    harness.main()
