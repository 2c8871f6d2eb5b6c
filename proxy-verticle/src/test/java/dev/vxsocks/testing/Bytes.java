package dev.vxsocks.testing;

import java.io.ByteArrayOutputStream;

/** Byte arrays written out in tests: {@code bytes(5, 1, 0)}, and pieces joined with {@link #concat}. */
public final class Bytes {

  private Bytes() {
  }

  /** One byte per value; a value outside 0..255 is a mistake in the test, not a byte. */
  public static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] > 0xFF) {
        throw new IllegalArgumentException("not a byte: " + values[i]);
      }
      b[i] = (byte) values[i];
    }
    return b;
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
