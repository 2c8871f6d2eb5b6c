package dev.vxsocks.config;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The credential format of the configuration file: PBKDF2-HMAC-SHA256 in the PHC string format,
 * {@code $pbkdf2-sha256$i=ITERATIONS$SALT$HASH} with unpadded standard Base64 salt and hash.
 * Deriving is deliberately slow (hundreds of milliseconds at the default cost): callers on an event loop must run
 * {@link #verify} off it.
 */
public final class PasswordHash {

  /** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
  public static final int DEFAULT_ITERATIONS = 600_000;
  public static final int MIN_ITERATIONS = 1_000;
  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;
  private static final Pattern FORMAT =
      Pattern.compile("\\$pbkdf2-sha256\\$i=(\\d{1,9})\\$([A-Za-z0-9+/]{16,})\\$([A-Za-z0-9+/]{32,})");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String encoded;
  private final int iterations;
  private final byte[] salt;
  private final byte[] hash;

  private PasswordHash(String encoded, int iterations, byte[] salt, byte[] hash) {
    this.encoded = encoded;
    this.iterations = iterations;
    this.salt = salt;
    this.hash = hash;
  }

  /** Parses a stored hash; {@code key} names the setting in the error. */
  public static PasswordHash parse(String key, String encoded) {
    Matcher m = FORMAT.matcher(encoded);
    if (!m.matches()) {
      throw new ConfigException(key, "must be a hash printed by 'vxsocks hash-password' ($pbkdf2-sha256$i=...$salt$hash); "
          + "plain-text passwords are not accepted");
    }
    int iterations = Integer.parseInt(m.group(1));
    if (iterations < MIN_ITERATIONS) {
      throw new ConfigException(key, "uses " + iterations + " iterations; at least " + MIN_ITERATIONS + " are required");
    }
    try {
      Base64.Decoder d = Base64.getDecoder();
      return new PasswordHash(encoded, iterations, d.decode(m.group(2)), d.decode(m.group(3)));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, "has a salt or hash that is not valid Base64");
    }
  }

  /** Hashes {@code password} with a fresh random salt. */
  public static PasswordHash create(char[] password, int iterations) {
    if (iterations < MIN_ITERATIONS) {
      throw new IllegalArgumentException("at least " + MIN_ITERATIONS + " iterations");
    }
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    byte[] hash = derive(password, salt, iterations, HASH_BYTES);
    Base64.Encoder e = Base64.getEncoder().withoutPadding();
    String encoded = "$pbkdf2-sha256$i=" + iterations + "$" + e.encodeToString(salt) + "$" + e.encodeToString(hash);
    return new PasswordHash(encoded, iterations, salt, hash);
  }

  /** Slow: derives the key for {@code password} and compares it in constant time. */
  public boolean verify(char[] password) {
    byte[] candidate = derive(password, salt, iterations, hash.length);
    return MessageDigest.isEqual(candidate, hash);
  }

  public String encoded() {
    return encoded;
  }

  public int iterations() {
    return iterations;
  }

  private static byte[] derive(char[] password, byte[] salt, int iterations, int bytes) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bytes * 8);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available in this JVM", e);
    } finally {
      spec.clearPassword();
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PasswordHash && ((PasswordHash) o).encoded.equals(encoded);
  }

  @Override
  public int hashCode() {
    return encoded.hashCode();
  }

  /** Never the hash itself: this object may end up in a log line. */
  @Override
  public String toString() {
    return "PasswordHash[pbkdf2-sha256, i=" + iterations + ", salt=" + Arrays.hashCode(salt) + "]";
  }
}
