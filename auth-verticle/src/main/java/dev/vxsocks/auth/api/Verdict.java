package dev.vxsocks.auth.api;

import io.vertx.core.json.JsonObject;

/**
 * The auth verticle's answer. {@code reason} is a short machine word for logs and metrics ({@link #OK},
 * {@link #DENIED}, {@link #BAD_CREDENTIALS}, {@link #DISABLED}, {@link #LIMIT}, {@link #THROTTLED}, {@link #BUSY});
 * {@code detail} says which rule or limit decided, for people; {@code limit} says which kind of limit refused, for the
 * refusal metric ({@link #LIMIT_PER_USER}, {@link #LIMIT_PER_IP}, {@link #RATE_PER_USER}, {@link #RATE_PER_IP}; null
 * for any other verdict); {@code lease} is set by a granted session open. Never carries a secret.
 */
public record Verdict(boolean allowed, String reason, String detail, String lease, String limit) {

  public static final String OK = "ok";
  public static final String DENIED = "denied";
  public static final String BAD_CREDENTIALS = "bad-credentials";
  public static final String DISABLED = "disabled";
  public static final String LIMIT = "limit";
  /** A login refused without a hash: its address (or user name from that address) failed too often lately. */
  public static final String THROTTLED = "throttled";
  /** A login refused without a hash: the password verifications of this node are backed up. */
  public static final String BUSY = "busy";

  /** Which limit refused ({@link #limit()}): the label of {@code vxsocks_refusals_total}'s cause. */
  public static final String LIMIT_PER_USER = "limit-per-user";
  public static final String LIMIT_PER_IP = "limit-per-ip";
  public static final String RATE_PER_USER = "rate-per-user";
  public static final String RATE_PER_IP = "rate-per-ip";

  public static Verdict allow(String detail) {
    return new Verdict(true, OK, detail, null, null);
  }

  public static Verdict deny(String reason, String detail) {
    return new Verdict(false, reason, detail, null, null);
  }

  /** A session or rate limit refused: {@code limit} is one of {@link #LIMIT_PER_USER} ... {@link #RATE_PER_IP}. */
  public static Verdict limit(String limit, String detail) {
    return new Verdict(false, LIMIT, detail, null, limit);
  }

  public static Verdict granted(String lease) {
    return new Verdict(true, OK, null, lease, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("allowed", allowed).put("reason", reason);
    if (detail != null) {
      json.put("detail", detail);
    }
    if (lease != null) {
      json.put("lease", lease);
    }
    if (limit != null) {
      json.put("limit", limit);
    }
    return json;
  }

  public static Verdict fromJson(JsonObject json) {
    return new Verdict(json.getBoolean("allowed", false), json.getString("reason", DENIED), json.getString("detail"),
        json.getString("lease"), json.getString("limit"));
  }
}
