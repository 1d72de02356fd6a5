#!/usr/bin/python3
"""Failover (issue 13, test 4): a pg_auto_failover cluster of the test's own
(tests/integration/pg_cluster.py: monitor, primary and two standbys on
loopback, number_sync_standbys=1: every commit waits for one of them), two
corridord on it (--store postgresql, the multi-host conninfo with
target_session_attrs=read-write), carriers pushing continuously through
both (half on each), the primary's machine lost under load (SIGKILL of its
postgres and its keeper), a standby promoted by the monitor, the daemons
finding the new primary by themselves (while it is away, the carriers get
retryable rejections and resend).

The carriers (durability.ResendingCarrier on independent_carrier.py) act as
real ones: they keep their own record, resend from the Welcome's acked_seq
after a reconnect and go back after a retryable rejection, and they fail the
test on a broken promise (an Ack or Welcome below what they already heard,
a final rejection of a valid update).

At the end, on the new primary: for every carrier every update it was told
is acknowledged is in update_seqs and in events, exactly once (0 lost, 0
duplicates), nothing stored that was never sent. Reported on stderr for the
CI log: the time from the kill to the promotion, to the first Ack after the
kill, and to the first new Ack (of an update first sent after the kill, so
certainly committed on the new primary), and the counts."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import pg_cluster  # noqa: E402

SEED = int(os.environ.get('CORRIDOR_TEST_SEED') or 20261204)
CARRIERS = ('KTZE', 'KMTF', 'PTCH', 'ADYC')
# The setting, number_sync_standbys=1, which pg_auto_failover 2.0
# takes only with two standbys (pg_cluster.py's docstring): a commit waits
# for one of them. CORRIDOR_PG_FAILOVER_STANDBYS=1: a single synchronous
# standby (number_sync_standbys 0, 'ANY 1 (standby)'), about half the time.
STANDBYS = int(os.environ.get('CORRIDOR_PG_FAILOVER_STANDBYS') or 2)
PACE = 200                  # new updates a second per carrier
LOAD_BEFORE_S = 5           # load before the kill
LOAD_AFTER_S = 5            # load after the first new Ack
RETRY_PAUSE_S = 0.1         # after a retryable rejection, as a carrier backs off
PROMOTE_TIMEOUT_S = 120
NEW_ACK_TIMEOUT_S = 120
DRAIN_TIMEOUT_S = 120


class TimedCarrier(dur.ResendingCarrier):
    """A ResendingCarrier that also notes when each Ack arrived."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ack_times = []         # (time.monotonic(), acked_seq)

    def _note(self, c, msg):
        if msg.WhichOneof('body') == 'ack':
            self.ack_times.append((time.monotonic(), msg.ack.acked_seq))
        return super()._note(c, msg)


def first_ack_after(carriers, t, above):
    """The earliest time after t at which a carrier heard an Ack above
    above[code] (None if none yet)."""
    best = None
    for c in carriers:
        for when, seq in list(c.ack_times):
            if when > t and seq > above[c.code]:
                best = when if best is None else min(best, when)
                break
    return best


def stored_seqs(pg, node, table, codes):
    """{carrier: [seq, ...]} of table (events or update_seqs) on node, every
    row (a seq twice if it is there twice)."""
    rows = pg.psql('SELECT carrier, seq FROM %s WHERE carrier IN (%s)' % (
        table, ','.join("'%s'" % c for c in codes)), node, db='corridor')
    out = {}
    for line in rows.splitlines():
        code, seq = line.split('|')
        out.setdefault(code, []).append(int(seq))
    return out


class PgFailover(unittest.TestCase):

    def test_sigkill_primary_under_load(self):
        pg = pg_cluster.PgCluster(standbys=STANDBYS)
        self.addCleanup(pg.stop)
        t0 = time.monotonic()
        pg.start()
        print('cluster up in %.1f s (%d standby(s), synchronous_standby_names %s): %s' % (
            time.monotonic() - t0, STANDBYS, pg.synchronous_standby_names(), pg.conninfo),
            file=sys.stderr)
        self.assertIn('ANY 1 (pgautofailover_standby_', pg.synchronous_standby_names())
        if STANDBYS >= 2:
            self.assertEqual(pg.number_sync_standbys(), 1)
        legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        daemons = []
        for _ in range(2):
            d = harness.new_daemon(self, extra_args=['--store', 'postgresql',
                                                     '--pg-conninfo', pg.conninfo])
            d.start()
            daemons.append(d)

        carriers = []
        for i, code in enumerate(CARRIERS):
            d = daemons[i % 2]
            c = TimedCarrier(lambda d=d: d.carrier_port, code, SEED, legs, pace=PACE,
                             give_up_s=PROMOTE_TIMEOUT_S, retry_pause_s=RETRY_PAUSE_S)
            self.addCleanup(c.halt.set)
            carriers.append(c)
            c.start()

        time.sleep(LOAD_BEFORE_S)
        self.assertEqual(dur.carrier_problems(carriers), [])
        for c in carriers:
            self.assertGreater(c.mark, 0, '%s: nothing acknowledged before the kill:\n%s'
                               % (c.code, daemons[0].log_tail()))
        old = pg.primary
        pg.kill_primary(old)
        t_kill = old.killed_at
        # after the kill: what a carrier sent later cannot have been
        # committed on the old primary (an Ack of a commit made before the
        # kill may still be on its way, but it is at or below this)
        before = {c.code: c.snapshot() for c in carriers}     # (mark, max_sent)
        new = pg.wait_promoted(PROMOTE_TIMEOUT_S)
        t_promoted = time.monotonic()
        self.assertIsNot(new, old)
        # at once, before anything more is sent: what was acknowledged when
        # the primary was lost is on the new one (a carrier never sends an
        # acknowledged seq again, so nothing could fill a hole later either)
        have = stored_seqs(pg, new, 'update_seqs', CARRIERS)
        for code, mark in sorted((c, m) for c, (m, _) in before.items()):
            lost = sorted(set(range(1, mark + 1)) - set(have.get(code, ())))
            self.assertEqual(lost[:10], [], '%s: acknowledged up to %d at the kill, %d not '
                             'on the new primary' % (code, mark, len(lost)))

        # the first new Ack: of an update first sent after the kill
        sent_at_kill = {code: s for code, (_, s) in before.items()}
        mark_at_kill = {code: m for code, (m, _) in before.items()}
        deadline = time.monotonic() + NEW_ACK_TIMEOUT_S
        while first_ack_after(carriers, t_kill, sent_at_kill) is None:
            problems = dur.carrier_problems(carriers)
            self.assertEqual(problems, [], 'after the kill')
            if time.monotonic() > deadline:
                self.fail('no new Ack %d s after the promotion: %s\n%s\n%s' % (
                    NEW_ACK_TIMEOUT_S, pg.describe(), daemons[0].log_tail(),
                    daemons[1].log_tail()))
            time.sleep(0.05)
        t_new_ack = first_ack_after(carriers, t_kill, sent_at_kill)
        t_any_ack = first_ack_after(carriers, t_kill, mark_at_kill)
        for d in daemons:
            self.assertTrue(d.alive(), 'corridord died in the failover:\n' + d.log_tail())

        time.sleep(LOAD_AFTER_S)
        for c in carriers:
            c.stop_new.set()
        dur.wait_all(carriers, DRAIN_TIMEOUT_S, 'after the failover')
        self.assertEqual(dur.carrier_problems(carriers), [])
        for d in daemons:
            alive = d.alive()
            rc = d.stop()
            self.assertTrue(alive, 'corridord died:\n' + d.log_tail())
            self.assertEqual(rc, 0, 'corridord exit code after SIGTERM:\n' + d.log_tail())

        # on the new primary: every acknowledged update stored exactly once
        dups = pg.psql('SELECT carrier, seq, count(*) FROM events GROUP BY 1, 2 '
                       'HAVING count(*) > 1 ORDER BY 1, 2 LIMIT 20', new, db='corridor')
        self.assertEqual(dups, '', 'stored more than once')
        problems = []
        stored_total = 0
        for table in ('events', 'update_seqs'):
            seqs = stored_seqs(pg, new, table, CARRIERS)
            for c in carriers:
                have = seqs.get(c.code, [])
                if len(have) != len(set(have)):
                    problems.append('%s: %s has %d duplicate seqs' % (
                        table, c.code, len(have) - len(set(have))))
                have = set(have)
                lost = [s for s in range(1, c.mark + 1) if s not in have]
                never = sorted(s for s in have if s > c.max_sent)
                if lost:
                    problems.append('%s: %s acknowledged up to %d, %d not stored: %s' % (
                        table, c.code, c.mark, len(lost), lost[:10]))
                if never:
                    problems.append('%s: %s stored but never sent: %s' % (
                        table, c.code, never[:10]))
                if table == 'events':
                    stored_total += len(have)
        self.assertEqual(problems, [], '\n'.join(problems))
        for c in carriers:
            self.assertEqual(c.mark, c.max_sent, c.code)

        acked = sum(c.mark for c in carriers)
        retryable = sum(1 for c in carriers for r in c.rejections if r[2])
        reasons = sorted(set(r[1] for c in carriers for r in c.rejections))
        print('failover: primary %s killed under load; %s promoted after %.1f s; '
              'first Ack after the kill %.2f s; first new Ack (an update sent after '
              'the kill) %.2f s after the kill' % (
                  old.name, new.name, t_promoted - t_kill, t_any_ack - t_kill,
                  t_new_ack - t_kill), file=sys.stderr)
        print('failover: %d updates acknowledged (%s), %d stored in events on the new '
              'primary, 0 lost, 0 duplicates; %d acknowledged at the kill (all on the new '
              'primary); %d sessions, %d disconnects, %d retryable rejections %s, errors %s' % (
                  acked, ', '.join('%s %d' % (c.code, c.mark) for c in carriers),
                  stored_total, sum(mark_at_kill.values()),
                  sum(c.sessions for c in carriers), sum(c.disconnects for c in carriers),
                  retryable, reasons, sorted(set(e for c in carriers for e in c.error_codes))),
              file=sys.stderr)
        self.assertTrue(pg.stop(), 'cluster not cleaned up')


if __name__ == '__main__':
    harness.main()
