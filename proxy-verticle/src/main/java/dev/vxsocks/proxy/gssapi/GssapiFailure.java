package dev.vxsocks.proxy.gssapi;

/**
 * Why a GSS-API exchange failed, in one line for the session's summary (the JDK's major status and its detail, a
 * malformed message, a refused principal). No stack trace: it describes the client's situation, not our code.
 */
public final class GssapiFailure extends Exception {

  public GssapiFailure(String message) {
    super(message, null, false, false);
  }
}
