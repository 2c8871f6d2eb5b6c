package dev.vxsocks.launcher;

import dev.vxsocks.launcher.LoopbackTargets.TcpTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link TwoNodeClientTest} plus the two raw TCP targets the stream clients (ncat, PySocks, the JDK's client) talk
 * to: an echo, and one that answers only after the client's FIN (it proves half-close is relayed).
 */
abstract class TcpClientTest extends TwoNodeClientTest {

  protected static TcpTarget echo;
  protected static TcpTarget answerAfterEof;

  @BeforeAll
  static void startTcpTargets() throws Exception {
    echo = TcpTarget.start(TcpTarget.Mode.ECHO);
    answerAfterEof = TcpTarget.start(TcpTarget.Mode.ANSWER_AFTER_EOF);
  }

  @AfterAll
  static void stopTcpTargets() throws Exception {
    echo.close();
    answerAfterEof.close();
  }
}
