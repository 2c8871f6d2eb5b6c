package dev.vxsocks.auth;

import dev.vxsocks.config.ConfigException;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The secret that keys the verification memo: the same bytes on every node, read from the file named by
 * {@code cluster.memo-secret-file}, never put in a Hazelcast structure. Everything the memo stores is an HMAC-SHA256
 * under a key derived from it, so a copy of the memo map without this secret gives no way to test a password guess,
 * and with it a guess costs one HMAC (docs/security/verification-memo.md says what that trades).
 */
public final class MemoSecret {

  private static final Logger LOG = Logger.getLogger(MemoSecret.class.getName());
  /** The fewest bytes a secret file may hold (after trailing white space is cut): 256 bits if they are random. */
  public static final int MIN_BYTES = 32;
  private static final byte[] LABEL = "vxsocks verification memo v1".getBytes(StandardCharsets.UTF_8);

  private final SecretKeySpec key;

  private MemoSecret(byte[] secret) {
    byte[] derived = hmac(new SecretKeySpec(secret, "HmacSHA256"), LABEL);
    this.key = new SecretKeySpec(derived, "HmacSHA256");
    Arrays.fill(derived, (byte) 0);
  }

  /** A secret of at least {@link #MIN_BYTES} bytes (tests; nodes read theirs with {@link #fromFile}). */
  public static MemoSecret of(byte[] secret) {
    if (secret.length < MIN_BYTES) {
      throw new IllegalArgumentException("a memo secret needs at least " + MIN_BYTES + " bytes");
    }
    return new MemoSecret(secret);
  }

  /**
   * Reads {@code file}: its bytes, without trailing white space (a text editor's newline), are the secret. A missing,
   * unreadable or short file is a {@link ConfigException} on {@code configKey}; a file that others than its owner may
   * read is used, with a WARNING.
   */
  public static MemoSecret fromFile(Path file, String configKey) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(configKey, "no such file: " + file);
    } catch (IOException | SecurityException e) {
      throw new ConfigException(configKey, "cannot read " + file + ": " + e.getMessage());
    }
    int end = bytes.length;
    while (end > 0 && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r' || bytes[end - 1] == ' ' || bytes[end - 1] == '\t')) {
      end--;
    }
    byte[] secret = Arrays.copyOf(bytes, end);
    Arrays.fill(bytes, (byte) 0);
    if (secret.length < MIN_BYTES) {
      throw new ConfigException(configKey, file + " holds " + secret.length + " bytes; a memo secret needs at least "
          + MIN_BYTES + " random ones (e.g. head -c 48 /dev/urandom | base64 > FILE), the same file on every node");
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warning("memo: " + file + " (" + configKey + ") can be read by others than its owner: with a copy of the "
            + "cluster's memo map it makes password guesses cheap (chmod 400 it)");
      }
    } catch (IOException | UnsupportedOperationException | SecurityException ignored) {
      // no POSIX permissions to check
    }
    try {
      return new MemoSecret(secret);
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
  }

  /** Where {@code name}'s entry is kept: 64 hex digits that do not reveal the name without the secret. */
  public String entryKey(String name) {
    return HexFormat.of().formatHex(hmac(key, fields("entry", name)));
  }

  /**
   * The proof that {@code password} matched {@code storedHash} for {@code name}: HMAC(key, "proof" ‖ name ‖
   * storedHash ‖ password), each part length-prefixed. Never the password, and useless against any other stored hash.
   */
  public byte[] proof(String name, String storedHash, String password) {
    byte[] data = fields("proof", name, storedHash, password);
    try {
      return hmac(key, data);
    } finally {
      Arrays.fill(data, (byte) 0);
    }
  }

  /** Twelve hex digits that tell whether two nodes hold the same secret (logged at start), and nothing else. */
  public String fingerprint() {
    return HexFormat.of().formatHex(hmac(key, fields("fingerprint"))).substring(0, 12);
  }

  private static byte[] fields(String... parts) {
    byte[][] encoded = new byte[parts.length][];
    int size = 0;
    for (int i = 0; i < parts.length; i++) {
      encoded[i] = parts[i].getBytes(StandardCharsets.UTF_8);
      size += 4 + encoded[i].length;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    for (byte[] e : encoded) {
      out.putInt(e.length).put(e);
    }
    return out.array();
  }

  private static byte[] hmac(SecretKeySpec k, byte[] data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(k);
      return m.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  /** Never the key: this object may end up in a log line. */
  @Override
  public String toString() {
    return "MemoSecret[" + fingerprint() + "]";
  }
}
