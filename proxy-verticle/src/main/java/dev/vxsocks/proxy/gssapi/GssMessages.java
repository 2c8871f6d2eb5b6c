package dev.vxsocks.proxy.gssapi;

/** The messages of RFC 1961 the server writes: {@code VER MTYP LEN TOKEN}, and the abort {@code 01 FF}. */
public final class GssMessages {

  /** §3.8: the server refuses the client, for any reason; also what a client may send. */
  private static final byte[] ABORT = {GssFrameDecoder.VERSION, (byte) GssFrameDecoder.ABORT};

  private GssMessages() {
  }

  public static byte[] abort() {
    return ABORT.clone();
  }

  /** {@code VER MTYP LEN} for a token of {@code length} bytes (1 to 65535). */
  public static byte[] header(int mtyp, int length) {
    if (length < 1 || length > GssFrameDecoder.MAX_TOKEN) {
      throw new IllegalArgumentException("a token of " + length + " bytes does not fit RFC 1961's 16-bit length");
    }
    return new byte[] {GssFrameDecoder.VERSION, (byte) mtyp, (byte) (length >> 8), (byte) length};
  }

  /** A whole message. */
  public static byte[] message(int mtyp, byte[] token) {
    byte[] out = new byte[4 + token.length];
    System.arraycopy(header(mtyp, token.length), 0, out, 0, 4);
    System.arraycopy(token, 0, out, 4, token.length);
    return out;
  }
}
