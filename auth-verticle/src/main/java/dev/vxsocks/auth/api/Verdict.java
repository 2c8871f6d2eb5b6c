package dev.vxsocks.auth.api;

import io.vertx.core.json.JsonObject;

/**
 * The auth verticle's answer. {@code reason} is a short machine word for logs and metrics ({@link #OK},
 * {@link #DENIED}, {@link #BAD_CREDENTIALS}, {@link #DISABLED}, {@link #LIMIT}, {@link #THROTTLED}, {@link #BUSY});
 * {@code detail} says which rule or limit decided; {@code lease} is set by a granted session open. Never carries a
 * secret.
 */
public record Verdict(boolean allowed, String reason, String detail, String lease) {

  public static final String OK = "ok";
  public static final String DENIED = "denied";
  public static final String BAD_CREDENTIALS = "bad-credentials";
  public static final String DISABLED = "disabled";
  public static final String LIMIT = "limit";
  /** A login refused without a hash: its address (or user name from that address) failed too often lately. */
  public static final String THROTTLED = "throttled";
  /** A login refused without a hash: the password verifications of this node are backed up. */
  public static final String BUSY = "busy";

  public static Verdict allow(String detail) {
    return new Verdict(true, OK, detail, null);
  }

  public static Verdict deny(String reason, String detail) {
    return new Verdict(false, reason, detail, null);
  }

  public static Verdict granted(String lease) {
    return new Verdict(true, OK, null, lease);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("allowed", allowed).put("reason", reason);
    if (detail != null) {
      json.put("detail", detail);
    }
    if (lease != null) {
      json.put("lease", lease);
    }
    return json;
  }

  public static Verdict fromJson(JsonObject json) {
    return new Verdict(json.getBoolean("allowed", false), json.getString("reason", DENIED), json.getString("detail"),
        json.getString("lease"));
  }
}
