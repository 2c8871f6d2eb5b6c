package dev.vxsocks.auth.api;

/**
 * The auth verticle did not answer (no handler, timeout, internal failure): an infrastructure failure, logged and
 * counted apart from a denial even though the client is refused either way.
 */
public final class AuthUnavailableException extends RuntimeException {

  public AuthUnavailableException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}
