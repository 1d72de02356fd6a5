#!/usr/bin/python3
"""Every hostile client of issue 11 at once, against one corridord, while real
carriers push: on the query port a partial line, lines pipelined behind an AUTH
refusal that waits out its delay, 100,000 pipelined PINGs never read and a
guesser that reconnects after each wrong AUTH; on the carrier port 16
connections holding a 1 MiB frame header before any Hello, a Welcome sent back
as a Hello, a guesser of carrier secrets and a carrier reusing a sequence
number on another leg; on the metrics port connections that never send a
request. Asserted: with the attackers connected and idle the daemon uses a
small fraction of one core; its peak RSS stays under the bound the README
gives for a small store; a real carrier's 50 KB batch is acknowledged
promptly and operators are answered while attacked; the carriers' updates
are all acknowledged and stored exactly once, field by field, and nothing
else is (the reused sequence number is refused)."""
import os
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import durability as dur  # noqa: E402
import independent_carrier as ic  # noqa: E402

SEED = 'under-attack'
RSS_BOUND_KIB = 100 * 1024        # README: a small store, the overload test's bound
IDLE_WINDOW_S = 3.0
IDLE_CPU_SHARE = 0.25             # of one core, with every attacker connected and idle
BATCH_ACK_BOUND_S = 2.0           # a real carrier's 50 KB batch, while attacked
FRAME_HOLDERS = 16
METRICS_IDLERS = 20
GUESSES = 30
PUSHED_PER_CARRIER = 3000



# Attackers come from addresses of their own (all of 127/8 is loopback), so
# that the per-address limits and delays they earn are theirs, not the real
# carriers' on 127.0.0.1.
ATTACKER = '127.0.0.2'
GUESSER = '127.0.0.3'


def connect(port, source=ATTACKER, timeout=5.0):
    return socket.create_connection(('127.0.0.1', port), timeout=timeout,
                                    source_address=(source, 0))


class UnderAttack(unittest.TestCase):

    def setUp(self):
        self.pb = ic.load_pb2()
        self.legs = [code for code, _ in model.load_legs(harness.SOURCE_DIR)]
        self.metrics_port = harness.free_port()
        self.d = harness.new_daemon(self, extra_args=[
            '--metrics-listen', '127.0.0.1:%d' % self.metrics_port])
        self.d.start()
        self.socks = []
        self.addCleanup(self.close_all)
        self.stop = threading.Event()
        self.addCleanup(self.stop.set)

    def close_all(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass

    def keep(self, s):
        self.socks.append(s)
        return s

    # ------------------------------------------------------------ attackers
    def open_query_attackers(self):
        port = self.d.query_port
        # a line that never ends, below the line limit
        self.keep(connect(port)).sendall(b'S' * 1000)
        # lines pipelined behind an AUTH whose refusal waits out its delay
        self.keep(connect(port)).sendall(b'AUTH nobody wrong-secret\n' + b'PING\n' * 500)
        # 100,000 PINGs, answers never read: send as far as the kernels take it
        s = self.keep(connect(port))
        off = harness.send_unread(s, b'PING\n' * 100000, 2.0)
        self.pings_sent = off
        self.flood = s

    def wait_flood_settled(self, timeout=30):
        """Until corridord has answered all the PINGs it will before its
        output to the flood is full: what it leaves unread stops changing."""
        mine = self.flood.getsockname()[1]
        last, since, deadline = None, time.monotonic(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            rx = harness.tcp_queues(self.d.query_port).get(mine, (0, 0))[1]
            if rx != last:
                last, since = rx, time.monotonic()
            elif time.monotonic() - since > 1.0:
                return rx
            time.sleep(0.1)
        self.fail('corridord went on reading the PING flood for %d s' % timeout)

    def open_carrier_attackers(self):
        port = self.d.carrier_port
        for _ in range(FRAME_HOLDERS):
            self.keep(connect(port)).sendall((1 << 20).to_bytes(4, 'big'))
        # the daemon's own Welcome sent back as a Hello: BAD_HELLO and a close
        server = self.pb.ServerMessage()
        server.welcome.protocol_version = 1
        server.welcome.acked_seq = 0
        c = ic.Carrier(port, 'KTZE', credential='')
        self.addCleanup(c.close)
        c.sock.close()
        c.sock = self.keep(connect(port))
        c.send_raw(ic.frame(server.SerializeToString()))
        self.assertEqual(c.expect_error(timeout=5), ('BAD_HELLO', True))

    def open_metrics_idlers(self):
        for _ in range(METRICS_IDLERS):
            try:
                self.keep(connect(self.metrics_port))
            except OSError:
                break       # refused at its share: that is the point

    def guess(self, port_name):
        """Wrong secrets, each on a fresh connection closed at once."""
        for i in range(GUESSES):
            if self.stop.is_set():
                return
            try:
                if port_name == 'query':
                    s = connect(self.d.query_port, GUESSER)
                    s.sendall(b'AUTH test-admin wrong-%d\n' % i)
                else:
                    s = connect(self.d.carrier_port, GUESSER)
                    h = self.pb.CarrierMessage()
                    h.hello.protocol_version = 1
                    h.hello.carrier = 'ADYC'
                    h.hello.credential = 'wrong-%d' % i
                    s.sendall(ic.frame(h.SerializeToString()))
                s.close()
            except OSError:
                pass

    def reuse_seq(self):
        """An authenticated carrier sends seq 1 on one leg, then another
        update under seq 1 on a second leg: the second is refused for good."""
        now = int(time.time() * 1000)
        first = dur.make_update_fields(SEED, 'MCML', 1, self.legs, now)
        other = dict(first, leg=[g for g in self.legs if g != first['leg']][0],
                     message_id=first['message_id'] + '-again')
        c = ic.Carrier(self.d.carrier_port, 'MCML')
        self.addCleanup(c.close)
        c.hello()
        c.send([ic.make_update(**first)])
        c.wait_acked(1)
        c.send([ic.make_update(**other)])
        c.send([ic.make_update(**first)])       # the identical resend: re-acked
        c.wait_ack_message(timeout=10)
        deadline = time.monotonic() + 10
        while 1 not in c.rejections and time.monotonic() < deadline:
            dur.read_for(c, 0.1)
        self.assertIn(1, c.rejections, 'the reused seq on another leg was not refused')
        rej = c.rejections[1]
        self.assertEqual(self.pb.RejectReason.Name(rej.reason), 'SEQ_REUSED')
        self.assertFalse(rej.retryable)
        return first

    # ----------------------------------------------------------------- test
    def test_all_attacks_at_once(self):
        d = self.d
        t_start = int(time.time() * 1000)
        self.open_query_attackers()
        self.open_carrier_attackers()
        self.open_metrics_idlers()
        guessers = [threading.Thread(target=self.guess, args=(p,), daemon=True)
                    for p in ('query', 'carrier')]
        for g in guessers:
            g.start()
        for g in guessers:
            g.join(60)
        reused = self.reuse_seq()

        # the attackers are connected and idle: the loop must be idle too
        unread = self.wait_flood_settled()
        self.assertGreater(unread, 0, 'corridord read the whole PING flood without its '
                           'answers being read')
        time.sleep(0.5)
        c0, t0 = harness.cpu_seconds(d.pid), time.monotonic()
        time.sleep(IDLE_WINDOW_S)
        idle_cpu = (harness.cpu_seconds(d.pid) - c0) / (time.monotonic() - t0)
        print('idle attackers connected: corridord used %.3f of a core over %.1f s' % (
            idle_cpu, IDLE_WINDOW_S))
        self.assertLess(idle_cpu, IDLE_CPU_SHARE, 'corridord spins with idle attackers')
        self.assertTrue(d.alive(), d.log_tail())

        # real carriers push while the attackers stay connected
        carriers = [dur.ResendingCarrier(lambda: d.carrier_port, code, SEED, self.legs,
                                         window=400, batch=(20, 100),
                                         total=PUSHED_PER_CARRIER, reconnect=False)
                    for code in ('KTZE', 'KMTF')]
        for c in carriers:
            c.start()
        # one more carrier times a 50 KB batch (about 150 updates with remarks)
        probe = ic.Carrier(d.carrier_port, 'PTCH')
        self.addCleanup(probe.close)
        probe.hello()
        now = int(time.time() * 1000)
        batch, size = [], 0
        while size < 50000:
            f = dur.make_update_fields(SEED, 'PTCH', len(batch) + 1, self.legs, now)
            f['remark'] = 'x' * 300
            u = ic.make_update(**f)
            batch.append((f, u))
            size += len(u.SerializeToString())
        t = time.monotonic()
        probe.send_batch([u for _, u in batch])
        probe.wait_acked(len(batch), timeout=30)
        batch_s = time.monotonic() - t
        # and an operator is answered
        t = time.monotonic()
        with d.query() as q:
            self.assertEqual(q.ok('PING').rows[0][0], 'PONG')
            q.ok('STATS *')
        query_s = time.monotonic() - t
        dur.wait_all(carriers, 120, 'carriers pushing under attack')
        print('under attack: a %d-byte batch of %d updates acknowledged in %.3f s; '
              'AUTH+PING+STATS in %.3f s; %d PING bytes taken by the kernels' % (
                  size, len(batch), batch_s, query_s, self.pings_sent))
        self.assertLess(batch_s, BATCH_ACK_BOUND_S)
        self.assertEqual(dur.carrier_problems(carriers), [])
        for c in carriers:
            self.assertEqual(c.mark, PUSHED_PER_CARRIER)

        hwm = harness.proc_status_kib(d.pid, 'VmHWM')
        print('corridord VmHWM %.1f MiB (bound %d MiB)' % (hwm / 1024.0, RSS_BOUND_KIB // 1024))
        if not harness.sanitized():
            self.assertLessEqual(hwm, RSS_BOUND_KIB)

        # the PING flood's answers all arrive, in order, once it reads
        flood = self.flood
        flood.setblocking(True)
        flood.settimeout(10)
        want, got = self.pings_sent // 5, b''
        deadline = time.monotonic() + 30
        while got.count(b'END 1\n') < want and time.monotonic() < deadline:
            if not select.select([flood], [], [], 1)[0]:
                continue
            chunk = flood.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        self.assertEqual(got.count(b'\nPONG\t'), want, 'answers to the pipelined PINGs')
        self.assertEqual(got.count(b'\nERR '), 0, got[:200])

        self.assertTrue(d.alive(), d.log_tail())
        self.assertEqual(d.stop(), 0, d.log_tail())
        events = dur.stored_events(d.state_dir)
        sent = {(c.code, s): c.updates[s] for c in carriers for s in c.updates}
        sent.update({('PTCH', f['seq']): f for f, _ in batch})
        sent[('MCML', 1)] = reused
        self.assertEqual(sorted(events), sorted(sent), 'stored (carrier, seq) pairs')
        self.assertEqual([k for k, rows in events.items() if len(rows) != 1], [])
        self.assertEqual(dur.row_mismatches(self.pb, events, sent, t_start,
                                            int(time.time() * 1000)), [])
        self.assertEqual(dur.integrity_problems(d.state_dir), [])


if __name__ == '__main__':
    harness.main()
