package dev.vxsocks.auth.api;

import dev.vxsocks.config.CommandName;
import io.vertx.core.json.JsonObject;

/**
 * What a client asks to do, for the request rules. {@code user} is null without authentication; {@code host} is the
 * name the client sent (null when it sent an address); {@code address} is the IP the proxy will actually use (the
 * resolved name), so a rule on address blocks cannot be bypassed with a name.
 */
public record AuthorizeRequest(String user, String client, CommandName command, String host, String address, int port) {

  public JsonObject toJson() {
    return new JsonObject().put("user", user).put("client", client).put("command", command.configName()).put("host", host)
        .put("address", address).put("port", port);
  }

  public static AuthorizeRequest fromJson(JsonObject json) {
    return new AuthorizeRequest(json.getString("user"), json.getString("client"), CommandName.of(json.getString("command", "")),
        json.getString("host"), json.getString("address"), json.getInteger("port", 0));
  }
}
