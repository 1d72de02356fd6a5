"""A daemon test case with carrier sessions (independent_carrier.py): the
helpers the carrier-port tests share."""
import harness

harness.ensure_protobuf()
import corridor_model as model  # noqa: E402
import independent_carrier as ic  # noqa: E402


def good_update(seq, carrier='KTZE', leg=model.RAIL, container=model.C1, minute=None,
                node='ALTYNKOL'):
    """A valid ACT LOAD on leg at base + minute (default seq) minutes."""
    base = model.scenario_base_ms()
    return ic.make_update(carrier=carrier, seq=seq, message_id='%s-%d' % (carrier, seq),
                          event_class='EQUIPMENT', classifier='ACT', event_code='LOAD',
                          event_time_ms=base + (seq if minute is None else minute) * 60000,
                          node=node, leg=leg, direction='W', container=container)


def hello_message(c, client_name=None):
    """The CarrierMessage of carrier session c's Hello, not sent."""
    m = c.pb.CarrierMessage()
    m.hello.protocol_version = 1
    m.hello.carrier = c.carrier
    m.hello.credential = c.credential
    if client_name is not None:
        m.hello.client_name = client_name
    return m


class CarrierCase(harness.DaemonTestCase):

    def carrier(self, code='KTZE', **kw):
        c = ic.Carrier(self.daemon.carrier_port, code, **kw)
        self.addCleanup(c.close)
        return c

    def assert_error(self, c, want):
        code, closed = c.expect_error()
        self.assertEqual(code, want)
        self.assertTrue(closed, 'the connection stayed open after Error %s' % code)

    def assert_still_serving(self):
        """PING answers and a fresh carrier session stores an update."""
        self.assert_alive()
        c = self.carrier('ADYC')
        w = c.hello()
        u = good_update(w.acked_seq + 1, 'ADYC')
        c.send([u])
        self.assertEqual(c.wait_acked(u.seq), u.seq)
        c.close()
