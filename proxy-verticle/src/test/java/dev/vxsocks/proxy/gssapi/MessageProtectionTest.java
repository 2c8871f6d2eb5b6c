package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.proxy.relay.Relay;
import dev.vxsocks.testing.TestKdc;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSCredential;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.MessageProp;
import org.ietf.jgss.Oid;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.kerberos.KeyTab;
import java.io.ByteArrayOutputStream;
import java.security.PrivilegedExceptionAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The relay's two filters under a protection level, on a real Kerberos context pair: what the client wraps comes out
 * as it was sent however the messages are split, what the upstream sends reaches the client in messages that fit
 * 65,535 bytes, a replayed or forged message or one without encryption at level 2 is refused, a FIN in the middle of
 * a message is reported, and every buffer handed to a filter goes back to the pool, refusals included.
 */
class MessageProtectionTest {

  private static final Oid KRB5 = GssapiAcceptor.KRB5;
  private static TestKdc kdc;
  private static Subject alice;

  @BeforeAll
  static void realm() {
    kdc = TestKdc.get();
    alice = kdc.login("alice");
  }

  /** A context pair: [client, server]. */
  private static GSSContext[] pair() throws Exception {
    GSSManager m = GSSManager.getInstance();
    GSSContext client = Subject.doAs(alice, (PrivilegedExceptionAction<GSSContext>) () -> {
      GSSContext c = m.createContext(m.createName(TestKdc.SERVICE, new Oid("1.2.840.113554.1.2.2.1")), KRB5, null,
          GSSContext.DEFAULT_LIFETIME);
      c.requestMutualAuth(true);
      c.requestConf(true);
      c.requestInteg(true);
      c.requestSequenceDet(true);
      c.requestReplayDet(true);
      return c;
    });
    Subject service = new Subject();
    KerberosPrincipal principal = new KerberosPrincipal(TestKdc.SERVICE);
    service.getPrincipals().add(principal);
    service.getPrivateCredentials().add(KeyTab.getInstance(principal, kdc.serviceKeytab().toFile()));
    GSSCredential credential = Subject.doAs(service, (PrivilegedExceptionAction<GSSCredential>) () ->
        m.createCredential(null, GSSCredential.INDEFINITE_LIFETIME, KRB5, GSSCredential.ACCEPT_ONLY));
    GSSContext server = m.createContext(credential);
    byte[] token = Subject.doAs(alice, (PrivilegedExceptionAction<byte[]>) () -> client.initSecContext(new byte[0], 0, 0));
    byte[] reply = server.acceptSecContext(token, 0, token.length);
    client.initSecContext(reply, 0, reply.length);
    assertThat(client.isEstablished() && server.isEstablished()).isTrue();
    return new GSSContext[] {client, server};
  }

  private static MessageProtection protection(GSSContext server, int level) throws Exception {
    GssFrameDecoder decoder = new GssFrameDecoder(new GssFrameDecoderTest.Events(), GssFrameDecoder.PROTECTION);
    return new MessageProtection(server, level, decoder);
  }

  private static byte[] wrapped(GSSContext client, byte[] plain, boolean encrypt) throws Exception {
    return GssMessages.message(GssFrameDecoder.ENCAPSULATION,
        client.wrap(plain, 0, plain.length, new MessageProp(0, encrypt)));
  }

  private static ByteBuf pooled(byte[] bytes, int offset, int length) {
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(1, length));
    b.writeBytes(bytes, offset, length);
    return b;
  }

  /** Runs {@code filter} on {@code in}; the output bytes, every output buffer released. */
  private static byte[] apply(Relay.Filter filter, ByteBuf in, long[] counted) throws Exception {
    List<ByteBuf> out = new ArrayList<>();
    counted[0] += filter.apply(in, out::add);
    assertThat(in.refCnt()).as("the filter released what it was given").isZero();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (ByteBuf b : out) {
      byte[] a = new byte[b.readableBytes()];
      b.readBytes(a);
      bytes.write(a);
      b.release();
    }
    return bytes.toByteArray();
  }

  @ParameterizedTest(name = "level {0}")
  @ValueSource(ints = {1, 2, 3})
  void theClientsMessagesComeOutAsSentHoweverSplit(int level) throws Exception {
    GSSContext[] p = pair();
    MessageProtection mp = protection(p[1], level);
    Random random = new Random(level);
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    ByteArrayOutputStream framed = new ByteArrayOutputStream();
    for (int size : new int[] {1, 100, 16_384, 60_000}) {
      byte[] chunk = new byte[size];
      random.nextBytes(chunk);
      sent.write(chunk);
      framed.write(wrapped(p[0], chunk, level != 1));
    }
    byte[] all = framed.toByteArray();
    Relay.Filter filter = mp.fromClient();
    long[] counted = {0};
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    for (int o = 0; o < all.length; o += 7_777) {
      got.write(apply(filter, pooled(all, o, Math.min(7_777, all.length - o)), counted));
    }
    assertThat(got.toByteArray()).isEqualTo(sent.toByteArray());
    assertThat(counted[0]).isEqualTo(sent.size());
    assertThat(filter.finish()).isNull();
  }

  @ParameterizedTest(name = "level {0}")
  @ValueSource(ints = {1, 2, 3})
  void whatTheUpstreamSendsReachesTheClientInMessagesThatFit(int level) throws Exception {
    GSSContext[] p = pair();
    MessageProtection mp = protection(p[1], level);
    byte[] plain = new byte[200_000];
    new Random(5).nextBytes(plain);
    long[] counted = {0};
    byte[] framed = apply(mp.toClient(), pooled(plain, 0, plain.length), counted);
    assertThat(counted[0]).isEqualTo(plain.length);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    int o = 0;
    int messages = 0;
    while (o < framed.length) {
      assertThat(framed[o]).isEqualTo((byte) 1);
      assertThat(framed[o + 1]).isEqualTo((byte) 3);
      int length = ((framed[o + 2] & 0xFF) << 8) | (framed[o + 3] & 0xFF);
      MessageProp prop = new MessageProp(0, false);
      got.write(p[0].unwrap(framed, o + 4, length, prop));
      assertThat(prop.getPrivacy()).as("encrypted unless at level 1").isEqualTo(level != 1);
      o += 4 + length;
      messages++;
    }
    assertThat(got.toByteArray()).isEqualTo(plain);
    assertThat(messages).isEqualTo((plain.length + mp.maxPlain() - 1) / mp.maxPlain());
  }

  @Test
  void aReplayedMessageIsRefused() throws Exception {
    GSSContext[] p = pair();
    Relay.Filter filter = protection(p[1], 2).fromClient();
    byte[] m = wrapped(p[0], "GET / HTTP/1.0\r\n\r\n".getBytes(), true);
    long[] counted = {0};
    apply(filter, pooled(m, 0, m.length), counted);
    ByteBuf again = pooled(m, 0, m.length);
    assertThatThrownBy(() -> filter.apply(again, b -> b.release())).isInstanceOf(GssapiFailure.class)
        .hasMessageContaining("out of sequence");
    assertThat(again.refCnt()).isZero();
  }

  @Test
  void atLevelTwoASignedOnlyMessageIsRefused() throws Exception {
    GSSContext[] p = pair();
    Relay.Filter filter = protection(p[1], 2).fromClient();
    byte[] m = wrapped(p[0], "plain".getBytes(), false);
    ByteBuf in = pooled(m, 0, m.length);
    assertThatThrownBy(() -> filter.apply(in, b -> b.release())).isInstanceOf(GssapiFailure.class)
        .hasMessageContaining("without confidentiality");
    assertThat(in.refCnt()).isZero();
  }

  @Test
  void aForgedMessageIsRefusedAndNothingMoreIsRead() throws Exception {
    GSSContext[] p = pair();
    Relay.Filter filter = protection(p[1], 1).fromClient();
    byte[] m = wrapped(p[0], "transfer 100 to alice".getBytes(), false);
    m[m.length - 20] ^= 1;
    ByteBuf in = pooled(m, 0, m.length);
    assertThatThrownBy(() -> filter.apply(in, b -> b.release())).isInstanceOf(GssapiFailure.class)
        .hasMessageContaining("does not unwrap");
    assertThat(in.refCnt()).isZero();
    byte[] good = wrapped(p[0], "more".getBytes(), false);
    ByteBuf after = pooled(good, 0, good.length);
    assertThatThrownBy(() -> filter.apply(after, b -> b.release())).isInstanceOf(GssapiFailure.class);
    assertThat(after.refCnt()).isZero();
  }

  @Test
  void aFinInTheMiddleOfAMessageIsReported() throws Exception {
    GSSContext[] p = pair();
    Relay.Filter filter = protection(p[1], 3).fromClient();
    byte[] m = wrapped(p[0], "half".getBytes(), true);
    long[] counted = {0};
    assertThat(apply(filter, pooled(m, 0, m.length - 3), counted)).isEmpty();
    assertThat(filter.finish()).isEqualTo("in the middle of a GSS-API message");
    assertThat(apply(filter, pooled(Arrays.copyOfRange(m, m.length - 3, m.length), 0, 3), counted))
        .isEqualTo("half".getBytes());
    assertThat(filter.finish()).isNull();
  }
}
